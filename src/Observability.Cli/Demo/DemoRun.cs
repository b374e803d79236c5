using System.Globalization;
using Observability.Cli.Suite;
using Spectre.Console;

namespace Observability.Cli.Demo;

/// <summary>What `obs demo` runs beside the suite, once it is up: the functions behind their sidecars, Prometheus, and the traffic.</summary>
internal sealed class DemoRun(LocalSuite suite, IReadOnlyList<DemoFunction> functions, string sidecar, string folder) : IAsyncDisposable
{
    private readonly List<ChildProcess> _children = [];

    public ChildProcess? Prometheus { get; private set; }

    public string? PrometheusUrl { get; private set; }

    public IReadOnlyList<ChildProcess> Children => _children;

    public async Task StartFunctionsAsync(CancellationToken ct)
    {
        await StartupSteps.Step($"Starting {functions.Count} functions, each behind its own obs-sidecar", async () =>
        {
            foreach (var function in functions)
            {
                // A session of its own (setsid): Ctrl+C in the terminal reaches obs only, which then stops the
                // traffic first and each sidecar after, so that the sidecars flush what they hold.
                _children.Add(ChildProcess.Start(
                    function.Name,
                    "setsid",
                    [sidecar, .. function.SidecarArguments(suite.Endpoints.OtlpHttp, suite.Keys.WriteKey, suite.Keys.WarmUpToken)],
                    function.Environment,
                    Path.Combine(folder, "logs", function.Name + ".log"),
                    Repository.Root));
            }

            foreach (var (function, child) in functions.Zip(_children))
            {
                await child.WaitUntilReadyAsync(new Uri($"http://127.0.0.1:{function.AdminPort.ToString(CultureInfo.InvariantCulture)}/healthz"), TimeSpan.FromSeconds(60), ct);
            }
        });
    }

    public async Task StartPrometheusAsync(int port, CancellationToken ct)
    {
        if (DemoPrometheus.FindBinary() is not { } binary)
        {
            AnsiConsole.MarkupLine("[yellow]![/] prometheus is not installed, so no rules or alerts evaluate: run scripts/ensure-deps.sh (Debian's prometheus) and start the demo again.");
            return;
        }

        port = port == 0 ? Hosting.LocalPostgres.FreePort() : port;
        var scheduler = suite.Endpoints.Hangfire is { } hangfire ? new Uri(hangfire) : null;
        Prometheus = await StartupSteps.Step("Starting Prometheus with the suite's rules", () => DemoPrometheus.StartAsync(
            binary, Path.Combine(folder, "prometheus"), port, new Uri(suite.Endpoints.Metrics), scheduler,
            suite.Keys.MetricsKey ?? suite.Keys.ReadKey, functions, ct));
        _children.Add(Prometheus);
        PrometheusUrl = $"http://127.0.0.1:{port}";
    }

    /// <summary>Stops Prometheus and the sidecars (each stops its function) side by side.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_children.Select(c => c.DisposeAsync().AsTask()));
        _children.Clear();
    }
}
