using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Observability.Cli.Commands;
using Observability.Collector;
using Observability.Collector.Configuration;
using Observability.Collector.Security;
using Observability.Hosting;
using Observability.WarmUp.Scheduling;
using Spectre.Console;

namespace Observability.Cli.Suite;

/// <summary>
/// The suite on this machine, as `obs up` and `obs demo` start it: a private PostgreSQL unless a database is given,
/// the collector with its UI, and the warm-up scheduler when there is a warm-up token. Disposing stops them in
/// reverse order.
/// </summary>
internal sealed class LocalSuite : IAsyncDisposable
{
    /// <summary>The file in the data folder that says where the running suite listens (no keys), for `obs attach`.</summary>
    public const string EndpointsFile = "endpoints.json";

    private static readonly string[] Logging = ["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Observability=Information"];

    private bool _endpointsWritten;

    private LocalSuite(LocalKeys keys, string dataDirectory)
    {
        Keys = keys;
        DataDirectory = dataDirectory;
    }

    public LocalKeys Keys { get; }

    public string DataDirectory { get; }

    public LocalPostgres? Postgres { get; private set; }

    public WebApplication? Collector { get; private set; }

    public WebApplication? Scheduler { get; private set; }

    public string DatabaseUrl { get; private set; } = string.Empty;

    public SuiteEndpoints Endpoints { get; private set; } = null!;

    /// <summary>Starts the parts one by one with progress; on a failure what started is stopped before the exception leaves.</summary>
    public static async Task<LocalSuite> StartAsync(SuiteSettings settings, CancellationToken ct)
    {
        var dir = Path.GetFullPath(settings.DataDirectory);
        var suite = new LocalSuite(LocalKeys.Load(dir), dir);
        try
        {
            await suite.StartPartsAsync(settings, ct);
            return suite;
        }
        catch
        {
            await suite.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the suite, runs <paramref name="body"/> while it runs, and stops it; configuration errors exit 2, start-up failures 1.</summary>
    public static async Task<int> RunAsync(SuiteSettings settings, string name, Func<LocalSuite, Task<int>> body, CancellationToken ct)
    {
        try
        {
            await using var suite = await LocalSuite.StartAsync(settings, ct);
            return await body(suite);
        }
        catch (OptionsValidationException e)
        {
            AnsiConsole.MarkupLine("[red]Configuration error:[/]");
            foreach (var failure in e.Failures)
            {
                AnsiConsole.MarkupLineInterpolated($"  - {failure}");
            }

            return 2;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]{name} failed:[/] {e.Message}");
            return 1;
        }
    }

    private async Task StartPartsAsync(SuiteSettings settings, CancellationToken ct)
    {
        var url = settings.DatabaseUrl;
        if (url is null)
        {
            Postgres = await StartupSteps.Step("Starting PostgreSQL (the first run initialises a cluster)", () =>
                LocalPostgres.StartAsync(Path.Combine(DataDirectory, "postgres"), port: PersistentPort(DataDirectory), ct: ct));
            url = Postgres.ConnectionString();
        }

        DatabaseUrl = url;
        Collector = CollectorApp.Build([.. Logging], o =>
        {
            o.DatabaseUrl = url;
            o.WriteKey = Keys.WriteKey;
            o.ReadKey = Keys.ReadKey;
            o.MetricsKey = Keys.MetricsKey;
            o.ListenAddress = settings.ListenAddress;
            o.OtlpGrpcPort = settings.GrpcPort;
            o.OtlpHttpPort = settings.OtlpPort;
            o.HttpPort = settings.HttpPort;
        });
        await StartupSteps.Step("Starting the collector (schema, partitions, ports)", () => Collector.StartAsync(ct));
        Endpoints = BuildEndpoints(); // what runs before the scheduler (the demo's functions) needs the collector's; again below with the scheduler's
        if (settings.BeforeScheduler is { } beforeScheduler)
        {
            await beforeScheduler(this, ct);
        }

        if (Keys.WarmUpToken is not null)
        {
            // The same database and keys as the collector: the scheduler reads the collector's tables.
            Scheduler = WarmUpScheduler.Build([.. Logging, .. settings.WarmUpArguments], o =>
            {
                o.DatabaseUrl = url;
                o.ReadKey = Keys.ReadKey;
                o.MetricsKey = Keys.MetricsKey;
                o.WarmUpToken = Keys.WarmUpToken;
                o.ListenAddress = settings.ListenAddress;
                o.Port = settings.WarmUpPort;
                o.TargetsFile = settings.WarmUpTargetsFile;
            });
            await StartupSteps.Step("Starting the warm-up scheduler (Hangfire)", () => Scheduler.StartAsync(ct));
        }

        Endpoints = BuildEndpoints();
        Directory.CreateDirectory(DataDirectory);
        await File.WriteAllTextAsync(Path.Combine(DataDirectory, EndpointsFile), Endpoints.WithoutKeys().ToJson(), ct);
        _endpointsWritten = true;
    }

    private SuiteEndpoints BuildEndpoints()
    {
        var ports = Collector!.Services.GetRequiredService<CollectorListeners>();
        const string host = "127.0.0.1";
        var scheme = string.IsNullOrWhiteSpace(Collector.Services.GetRequiredService<IOptions<CollectorOptions>>().Value.TlsCertificateFile) ? "http" : "https";
        return new SuiteEndpoints
        {
            Ui = $"{scheme}://{host}:{ports.Port(ListenerRole.Api)}/ui/",
            OtlpGrpc = $"{scheme}://{host}:{ports.Port(ListenerRole.OtlpGrpc)}",
            OtlpHttp = $"{scheme}://{host}:{ports.Port(ListenerRole.OtlpHttp)}",
            Api = $"{scheme}://{host}:{ports.Port(ListenerRole.Api)}/api/v1",
            Jaeger = $"{scheme}://{host}:{ports.Port(ListenerRole.Api)}/jaeger",
            Metrics = $"{scheme}://{host}:{ports.Port(ListenerRole.Api)}/metrics",
            Hangfire = Scheduler is null ? null : $"http://{host}:{WarmUpScheduler.Port(Scheduler)}/hangfire",
            Database = Postgres?.Url(),
            WriteKey = Keys.WriteKey,
            ReadKey = Keys.ReadKey,
            MetricsKey = Keys.MetricsKey,
            WarmUpToken = Keys.WarmUpToken,
        };
    }

    // The private cluster keeps its port across runs so that saved connection strings stay valid.
    private static int PersistentPort(string dir)
    {
        var path = Path.Combine(dir, "postgres.port");
        if (File.Exists(path) && int.TryParse(File.ReadAllText(path), out var port))
        {
            return port;
        }

        port = LocalPostgres.FreePort();
        Directory.CreateDirectory(dir);
        File.WriteAllText(path, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_endpointsWritten)
        {
            File.Delete(Path.Combine(DataDirectory, EndpointsFile));
        }

        if (Scheduler is not null)
        {
            await Scheduler.DisposeAsync();
        }

        if (Collector is not null)
        {
            await Collector.DisposeAsync();
        }

        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }
    }
}
