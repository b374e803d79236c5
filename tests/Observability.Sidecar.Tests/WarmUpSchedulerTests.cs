using System.Net;
using Microsoft.AspNetCore.Builder;
using Observability.Sidecar.Configuration;
using Observability.Sidecar.Telemetry;
using Observability.Testing;
using Observability.WarmUp.Scheduling;

namespace Observability.Sidecar.Tests;

/// <summary>
/// End to end with real processes: a function behind the sidecar that scales to zero, the collector, and the warm-up
/// scheduler on Hangfire, which finds the sidecar by the URL it advertises and keeps the function warm.
/// </summary>
public sealed class WarmUpSchedulerTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const string Token = "end-to-end-warm-up-token-5d2c";

    // Scale to zero after 8 s without requests; the scheduler is told the same keep-alive and pings 4 s before it runs out.
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(4);

    // Idle far longer than the keep-alive: three idle timeouts.
    private static readonly TimeSpan LongIdle = 3 * IdleTimeout;

    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task Without_warm_up_the_request_after_a_long_idle_is_cold()
    {
        await using var sidecar = await StartSidecarAsync("unwarmed");
        Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);

        await IdleAsync(sidecar);

        Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
        var spans = await _collector.SpansAsync("unwarmed", "GET /hello", n => n >= 2);
        Assert.All(spans, s => Assert.True(s.GetProperty("function").GetProperty("coldStart").GetBoolean()));
        Assert.True(MetricsText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "obs_sidecar_idle_stops_total") >= 1);
    }

    [Fact]
    public async Task With_the_idle_policy_the_request_after_a_long_idle_is_warm_and_pings_are_no_invocations()
    {
        await using var sidecar = await StartSidecarAsync("warmed");
        Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
        // The scheduler finds the function by the URL on its spans: wait until the first one is stored.
        await _collector.SpansAsync("warmed", "GET /hello", n => n >= 1);

        var scheduler = WarmUpScheduler.Build(["--Logging:LogLevel:Default=Warning"], o =>
        {
            o.DatabaseUrl = database.ConnectionString;
            o.ReadKey = CollectorRunner.ReadKey;
            o.WarmUpToken = Token;
            o.Port = 0;
            o.DefaultPolicy = "idle";
            o.KeepAlive = IdleTimeout;
            o.Margin = Margin;
            o.BudgetPerHour = 10_000;
            o.SchedulePollingInterval = TimeSpan.FromMilliseconds(250);
            o.QueuePollInterval = TimeSpan.FromMilliseconds(250);
        });
        long answered;
        await using (scheduler)
        {
            await scheduler.StartAsync();
            // Pinged from the start, then kept warm through a long idle.
            await Poll.UntilAsync(() => AnsweredPingsAsync("warmed"), n => n >= 1, TimeSpan.FromSeconds(60), "the first ping");
            // The idle under test is a span of time with no request at all, so the test waits it out; only the
            // scheduler's pings reach the sidecar meanwhile.
            await Task.Delay(LongIdle);

            using var answer = await sidecar.Client.GetAsync("/hello");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            await scheduler.StopAsync();
            answered = await AnsweredPingsAsync("warmed");
        }

        var sidecarMetrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(0, MetricsText.Value(sidecarMetrics, "obs_sidecar_idle_stops_total"));
        // At least one ping per keep-alive of the idle: fewer could not have kept it warm.
        Assert.True(answered >= LongIdle / IdleTimeout, $"{answered} pings over {LongIdle}");
        var spans = await _collector.SpansAsync("warmed", "GET /hello", n => n >= 2);
        Assert.Equal([true, false], spans.OrderBy(s => s.GetProperty("startTime").GetDateTime()).Select(s => s.GetProperty("function").GetProperty("coldStart").GetBoolean()));

        // Every answered ping reached the collector as a warm-up span, and none as an invocation or error.
        await sidecar.DisposeAsync(); // flushes the sidecar's spans
        var series = "{function=\"warmed\",version=\"1\",trigger=\"http\"}";
        var metrics = await Poll.UntilAsync(
            () => _collector.Query.GetStringAsync("/metrics"),
            m => MetricsText.Value(m, "obs_warmup_invocations_total" + series) >= answered,
            TimeSpan.FromSeconds(60),
            "the pings' spans");
        Assert.Equal(answered, MetricsText.Value(metrics, "obs_warmup_invocations_total" + series));
        Assert.Equal(2, MetricsText.Value(metrics, "faas_invocations_total" + series));
        Assert.Equal(0, MetricsText.Value(metrics, "faas_errors_total" + series));
    }

    [Fact]
    public async Task A_sidecar_with_a_warm_up_token_advertises_where_to_ping_it_and_one_without_does_not()
    {
        await using var tokened = await StartSidecarAsync("advertised");
        await using var explicitUrl = await StartSidecarAsync("relayed", "AdvertiseUrl=http://orders-lb.internal:8081/ping");
        await using var tokenless = await SidecarRunner.StartAsync("unadvertised", _collector, "Routes:0=/hello");
        foreach (var sidecar in new[] { tokened, explicitUrl, tokenless })
        {
            Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
        }

        Assert.Equal($"http://127.0.0.1:{tokened.Port}/", await AdvertisedAsync("advertised"));
        Assert.Equal("http://orders-lb.internal:8081/ping", await AdvertisedAsync("relayed"));
        Assert.Equal(string.Empty, await AdvertisedAsync("unadvertised"));
    }

    [Fact]
    public void The_advertised_url_defaults_to_the_listen_url_and_needs_a_token()
    {
        var options = new SidecarOptions { FunctionName = "f", ListenAddress = "0.0.0.0", Port = 9191, WarmUpToken = Token };
        var attributes = SidecarTracing.Resource(options).Build().Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal($"http://{Environment.MachineName}:9191/", attributes["obs.warmup.url"]);

        options.WarmUpToken = null;
        Assert.DoesNotContain("obs.warmup.url", SidecarTracing.Resource(options).Build().Attributes.Select(a => a.Key));
    }

    private Task<SidecarRunner> StartSidecarAsync(string name, params string[] settings) =>
        SidecarRunner.StartAsync(name, _collector, [$"WarmUpToken={Token}", $"IdleTimeout={IdleTimeout:c}", "Routes:0=/hello", .. settings]);

    /// <summary>Waits out a long idle, and makes sure the sidecar really scaled the function to zero in it if nothing pinged.</summary>
    private static async Task IdleAsync(SidecarRunner sidecar) =>
        await Poll.UntilAsync(
            () => sidecar.Admin.GetStringAsync("/metrics"),
            m => MetricsText.Value(m, "obs_sidecar_function_up") == 0 && MetricsText.Value(m, "obs_sidecar_idle_stops_total") >= 1,
            LongIdle + TimeSpan.FromSeconds(30),
            "the idle stop");

    private Task<long> AnsweredPingsAsync(string function) =>
        Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM warmup.pings WHERE function_name = $1 AND outcome IN ('warm', 'cold')", function);

    private async Task<string> AdvertisedAsync(string function)
    {
        await _collector.SpansAsync(function, "GET /hello", n => n >= 1);
        return await Sql.ScalarAsync<string>(database.ConnectionString, "SELECT coalesce(max(resource ->> 'obs.warmup.url'), '') FROM spans WHERE function_name = $1", function);
    }
}
