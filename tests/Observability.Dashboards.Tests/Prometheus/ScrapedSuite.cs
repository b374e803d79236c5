using System.Net;
using Google.Protobuf;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Observability.Dashboards.Tests.Grafana;
using Observability.Hosting;
using Observability.Testing;
using Observability.WarmUp.Scheduling;
using YamlDotNet.RepresentationModel;
using static Observability.Testing.OtlpFactory;

namespace Observability.Dashboards.Tests.Prometheus;

/// <summary>
/// The suite as Prometheus sees it: a real collector over the PostgreSQL fixture fed with synthetic OTLP traffic
/// every second (the functions of the SLO specs, two versions each), a real sidecar with the sample function
/// under its own traffic, the warm-up scheduler pinging targets that answer warm, cold, fail or run out of budget
/// (a second sidecar that scales to zero makes the cold ones), and a real Prometheus scraping them all every second
/// with the rules of dashboards/prometheus/rules loaded. The traffic keeps flowing while the tests query.
/// </summary>
public sealed class ScrapedSuite : IAsyncLifetime, IDisposable
{
    public static readonly string[] Versions = ["1", "2"];

    /// <summary>
    /// The sidecar's function: a name no SLO spec has, so that each SLO sees only the synthetic traffic, the same mix
    /// every second (what the comparison of `obs slo status` with the rules relies on).
    /// </summary>
    public const string SidecarFunction = "hello-sidecar";

    public const string SidecarVersion = "3";

    /// <summary>The function behind the second sidecar, which stops it after a second idle: the scheduler's pings find it cold.</summary>
    public const string ColdFunction = "pinged";

    private const string WarmUpToken = "dashboards-tests-warmup-token-5d1c";

    /// <summary>The scheduler's planner job (WarmUpPlanner.RecurringJobId, internal to the scheduler): triggered every few seconds here rather than once a minute.</summary>
    private const string PlannerJob = "warmup-planner";

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Exception> _trafficErrors = [];
    private Task _traffic = Task.CompletedTask;
    private long _lastTickStartTicks;
    private SidecarProcess? _sidecar;
    private SidecarProcess? _coldSidecar;
    private WebApplication? _scheduler;
    private string? _targetsFile;
    private PrometheusServer? _prometheus;

    public CollectorRunner Collector { get; private set; } = null!;

    public string ConnectionString { get; private set; } = string.Empty;

    public IReadOnlyList<string> Functions { get; private set; } = [];

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    /// <summary>When the latest tick's synthetic spans start (all of them; the next tick's start at least 1 s later).</summary>
    public DateTimeOffset LastTickStart => new(Interlocked.Read(ref _lastTickStartTicks), TimeSpan.Zero);

    internal PrometheusServer Prometheus => _prometheus!;

    internal SidecarProcess Sidecar => _sidecar!;

    /// <summary>Failures of the traffic loop (an ingest refused for good, a sidecar not answering), for the tests to report.</summary>
    public IReadOnlyList<Exception> TrafficErrors
    {
        get
        {
            lock (_trafficErrors)
            {
                return [.. _trafficErrors];
            }
        }
    }

    public async Task InitializeAsync()
    {
        Functions = SloFunctions();
        var server = await PostgresServer.Shared;
        ConnectionString = await server.CreateDatabaseAsync("dashboards");
        // A small queue, so that bursts of noise fill it and the collector's drop counters have something to count.
        Collector = await CollectorRunner.StartAsync(ConnectionString, o => o.QueueCapacity = 400);
        _sidecar = await SidecarProcess.StartAsync(SidecarFunction, SidecarVersion, Collector, samplingRatio: 0.5, WarmUpToken);
        _coldSidecar = await SidecarProcess.StartAsync(ColdFunction, "1", Collector, samplingRatio: 1, WarmUpToken, idleTimeout: TimeSpan.FromSeconds(1));
        _scheduler = await StartSchedulerAsync();
        _prometheus = await PrometheusServer.StartAsync(
            [
                new ScrapeJob("obs-collector", [$"127.0.0.1:{Collector.HttpPort}"], CollectorRunner.MetricsKey),
                new ScrapeJob("obs-sidecar", [$"127.0.0.1:{_sidecar.AdminPort}", $"127.0.0.1:{_coldSidecar.AdminPort}"], null),
                new ScrapeJob("obs-warmup", [$"127.0.0.1:{WarmUpScheduler.Port(_scheduler)}"], CollectorRunner.MetricsKey),
            ],
            SuiteMetrics.RuleFiles());
        _traffic = Task.Run(() => TrafficAsync(_stop.Token));
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _traffic;
        }
        catch (OperationCanceledException)
        {
        }

        if (_prometheus is not null)
        {
            await _prometheus.DisposeAsync();
        }

        if (_scheduler is not null)
        {
            await _scheduler.StopAsync();
            await _scheduler.DisposeAsync();
        }

        foreach (var sidecar in new[] { _sidecar, _coldSidecar })
        {
            if (sidecar is not null)
            {
                await sidecar.DisposeAsync();
            }
        }

        if (_targetsFile is not null)
        {
            File.Delete(_targetsFile);
        }

        await Collector.DisposeAsync();
    }

    public void Dispose() => _stop.Dispose();

    /// <summary>
    /// The warm-up scheduler, in this process as `obs up` runs it, with three targets: the first sidecar's function,
    /// kept warm by its traffic (warm pings); the second sidecar's, idle, with a budget of two pings an hour (cold
    /// pings, then skipped ones); one where nothing listens (failed pings). Fixed policy, a ping every 2 s.
    /// </summary>
    private async Task<WebApplication> StartSchedulerAsync()
    {
        _targetsFile = Path.Combine(Path.GetTempPath(), $"obs-dashboards-targets-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(_targetsFile, $"""
            targets:
              - function: {SidecarFunction}
                url: http://127.0.0.1:{Sidecar.Port}/hello
                policy: fixed
                fixedInterval: "00:00:02"
                budgetPerHour: 3600
              - function: {ColdFunction}
                url: http://127.0.0.1:{_coldSidecar!.Port}/hello
                policy: fixed
                fixedInterval: "00:00:02"
                budgetPerHour: 2
              - function: unreachable
                url: http://127.0.0.1:{LocalPostgres.FreePort()}/
                policy: fixed
                fixedInterval: "00:00:02"
                budgetPerHour: 3600
            """);
        // Hangfire warns of every retry of the unreachable target's pings: expected here, so only errors.
        var app = WarmUpScheduler.Build(["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Hangfire=Error"], o =>
        {
            o.DatabaseUrl = ConnectionString;
            o.ReadKey = CollectorRunner.ReadKey;
            o.MetricsKey = CollectorRunner.MetricsKey;
            o.WarmUpToken = WarmUpToken;
            o.Port = 0;
            o.TargetsFile = _targetsFile;
            o.Discover = false;
            o.SchedulePollingInterval = TimeSpan.FromMilliseconds(500);
            o.QueuePollInterval = TimeSpan.FromMilliseconds(500);
            o.PingTimeout = TimeSpan.FromSeconds(10);
        });
        await app.StartAsync();
        return app;
    }

    /// <summary>The function of every SLO spec in dashboards/slo, so that every SLO's rules have traffic to work on.</summary>
    private static string[] SloFunctions()
    {
        var folder = Path.Combine(RepositoryFiles.Root, "dashboards", "slo");
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.Exists(folder) ? Directory.GetFiles(folder, "*.yaml").Concat(Directory.GetFiles(folder, "*.yml")) : [])
        {
            var yaml = new YamlStream();
            using (var reader = new StreamReader(file))
            {
                yaml.Load(reader);
            }

            if (((YamlMappingNode)yaml.Documents[0].RootNode).Children.TryGetValue(new YamlScalarNode("function"), out var function))
            {
                names.Add(((YamlScalarNode)function).Value!);
            }
        }

        // Two functions at least, whatever the specs say, so that every "by function" panel has more than one series.
        if (names.Count < 2)
        {
            names.UnionWith(["hello", "orders"]);
        }

        return [.. names];
    }

    private async Task TrafficAsync(CancellationToken ct)
    {
        for (var tick = 0; !ct.IsCancellationRequested; tick++)
        {
            var started = DateTime.UtcNow;
            try
            {
                await OneTickAsync(tick, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                lock (_trafficErrors)
                {
                    _trafficErrors.Add(e);
                }
            }

            var rest = TimeSpan.FromSeconds(1) - (DateTime.UtcNow - started);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, ct);
            }
        }
    }

    private async Task OneTickAsync(int tick, CancellationToken ct)
    {
        var start = DateTime.UtcNow;
        Interlocked.Exchange(ref _lastTickStartTicks, start.Ticks);
        foreach (var function in Functions)
        {
            foreach (var version in Versions)
            {
                var (traces, logs) = SyntheticTraffic.Tick(function, version, tick, start);
                await SendAsync("/v1/traces", traces, ct);
                await SendAsync("/v1/logs", logs, ct);
                if (tick % 10 == 0 && function == Functions[0] && version == Versions[0])
                {
                    await SendAsync("/v1/traces", traces, ct); // a client retry: stored once, counted as duplicates
                }
            }
        }

        for (var i = 0; i < 3; i++)
        {
            using var hello = await Sidecar.Client.GetAsync("/hello", ct);
            hello.EnsureSuccessStatusCode();
        }

        using (var thrown = await Sidecar.Client.GetAsync("/throw", ct))
        {
            if (thrown.StatusCode != HttpStatusCode.InternalServerError)
            {
                throw new InvalidOperationException($"/throw answered {thrown.StatusCode}");
            }
        }

        if (tick % 10 == 0)
        {
            await RefusalsAsync(ct);
        }

        if (tick % 3 == 0)
        {
            _scheduler!.Services.GetRequiredService<IRecurringJobManager>().Trigger(PlannerJob);
        }
    }

    /// <summary>What the collector refuses: a partly invalid request, a request without a key, and a burst that overfills the queue.</summary>
    private async Task RefusalsAsync(CancellationToken ct)
    {
        using (var partly = await Collector.Ingest.PostAsync("/v1/traces", Protobuf(SyntheticTraffic.PartlyInvalid()), ct))
        {
            partly.EnsureSuccessStatusCode(); // partial success: 200, the bad span counted as rejected
        }

        using (var anonymous = CollectorRunner.Client(Collector.OtlpHttpPort, null))
        using (var refused = await anonymous.PostAsync("/v1/traces", Protobuf(SyntheticTraffic.Noise(1)), ct))
        {
            if (refused.StatusCode != HttpStatusCode.Unauthorized)
            {
                throw new InvalidOperationException($"an ingest without a key got {refused.StatusCode}");
            }
        }

        // Concurrent requests of 300 spans into a queue of 400: the ones that find it partly full are refused (429/503).
        var burst = Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await Collector.Ingest.PostAsync("/v1/traces", Protobuf(SyntheticTraffic.Noise(300)), ct);
            return response.StatusCode;
        });
        await Task.WhenAll(burst);
    }

    /// <summary>Sends as an OTLP exporter would: retries while the collector says to (429/503), as a full queue does here.</summary>
    private async Task SendAsync(string path, IMessage message, CancellationToken ct)
    {
        var body = message.ToByteArray();
        for (var attempt = 0; ; attempt++)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-protobuf");
            using var response = await Collector.Ingest.PostAsync(path, content, ct);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) || attempt >= 50)
            {
                throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        }
    }
}
