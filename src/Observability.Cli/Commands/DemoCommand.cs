using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Observability.Cli.Demo;
using Observability.Cli.Suite;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>
/// `obs demo`: the suite as `obs up` runs it, plus sample functions behind sidecars, Prometheus with the suite's
/// rules, and traffic that makes traces, cold starts, failures, crashes and warm-up pings, until Ctrl+C. Then it
/// stops everything and checks that no process it started is left.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Folder for the demo's private PostgreSQL cluster, keys, logs and Prometheus.", DefaultValueFactory = _ => Path.Combine(".data", "demo") };
        var databaseUrl = new Option<string?>("--database-url") { Description = "Use this PostgreSQL instead of a private cluster." };
        var grpcPort = new Option<int>("--grpc-port") { Description = "OTLP/gRPC port (0: any free port).", DefaultValueFactory = _ => 4317 };
        var otlpPort = new Option<int>("--otlp-port") { Description = "OTLP/HTTP port.", DefaultValueFactory = _ => 4318 };
        var httpPort = new Option<int>("--http-port") { Description = "Query API, UI and /metrics port.", DefaultValueFactory = _ => 8080 };
        var warmUpPort = new Option<int>("--warmup-port") { Description = "Warm-up scheduler port (Hangfire dashboard).", DefaultValueFactory = _ => 8090 };
        var prometheusPort = new Option<int>("--prometheus-port") { Description = "Prometheus port.", DefaultValueFactory = _ => 9090 };
        var functionsPort = new Option<int>("--functions-port") { Description = "First function's sidecar port; the others follow, their admin ports are 100 above (0: any free ports).", DefaultValueFactory = _ => 8101 };
        var seed = new Option<int>("--seed") { Description = "Seed of the traffic generator: the same seed sends the same requests.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the endpoints, keys and functions as one line of JSON instead of tables." };

        var command = new Command("demo", "Run the suite with sample functions behind sidecars, Prometheus and traffic, until Ctrl+C.")
        {
            dataDir, databaseUrl, grpcPort, otlpPort, httpPort, warmUpPort, prometheusPort, functionsPort, seed, json,
        };
        command.SetAction(async (result, ct) =>
        {
            try
            {
                return await RunAsync(result, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl+C before the demo was up: what had started is stopped by the disposals on the way out.
                AnsiConsole.MarkupLine("Stopped before the demo was up.");
                return 130;
            }
        });
        return command;

        async Task<int> RunAsync(ParseResult result, CancellationToken ct)
        {
            var folder = Path.GetFullPath(result.GetValue(dataDir)!);
            IReadOnlyList<DemoFunction> functions;
            string sidecar;
            try
            {
                if (FindOnPath("node") is null)
                {
                    throw new InvalidOperationException("node is not installed: run scripts/ensure-deps.sh (Debian's nodejs), or start the demo with ./obs demo, which does.");
                }

                sidecar = await Builds.SidecarAsync(ct);
                var hello = await Builds.SampleAsync("HelloFunction", ct);
                var grpc = await Builds.SampleAsync("GrpcFunction", ct);
                functions = DemoFunctions.Create(result.GetValue(functionsPort), hello, grpc, Repository.PathOf("samples", "node-hello", "server.js"));
            }
            catch (InvalidOperationException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]obs demo failed:[/] {e.Message}");
                return 1;
            }

            Directory.CreateDirectory(folder);
            var targets = Path.Combine(folder, "warmup-targets.yaml");
            await File.WriteAllTextAsync(targets, DemoFunction.TargetsYaml(functions), ct);
            DemoRun? run = null;
            var settings = new SuiteSettings(folder, result.GetValue(databaseUrl), "127.0.0.1", result.GetValue(grpcPort), result.GetValue(otlpPort), result.GetValue(httpPort), result.GetValue(warmUpPort), targets)
            {
                // Quick polling so that a planned ping goes out on time; the scheduler's lines would bury the tables.
                WarmUpArguments = ["--WarmUp:SchedulePollingInterval=00:00:00.5", "--WarmUp:QueuePollInterval=00:00:00.5", "--Logging:LogLevel:Observability.WarmUp=Error", "--Logging:LogLevel:Hangfire=Error"],
                // The functions are up before the scheduler sends its first pings to them.
                BeforeScheduler = async (suite, token) =>
                {
                    run = new DemoRun(suite, functions, sidecar, folder);
                    await run.StartFunctionsAsync(token);
                },
            };

            IReadOnlyList<ProcessId> started = [];
            int exit;
            try
            {
                exit = await LocalSuite.RunAsync(settings, "obs demo", async suite =>
                {
                    await using var functionsRun = run!;
                    await run!.StartPrometheusAsync(result.GetValue(prometheusPort), ct);
                    Print(suite, run, functions, result.GetValue(json));

                    await using var traffic = new DemoTraffic(functions, result.GetValue(seed), TimeProvider.System);
                    await traffic.RunAsync(ct);
                    // Ctrl+C: what runs now is what must be gone when the demo ends.
                    started = ProcessTree.Descendants(Environment.ProcessId);
                    AnsiConsole.MarkupLine("Stopping: traffic, Prometheus, the sidecars and their functions, the scheduler, the collector, PostgreSQL…");
                    PrintCounts(traffic.Counts);
                    return 0;
                }, ct);
            }
            finally
            {
                // Stopped already unless the start failed half-way; the sidecars stop before the collector in the normal case.
                if (run is not null)
                {
                    await run.DisposeAsync();
                }
            }

            return exit == 0 ? Verify(started) : exit;
        }
    }

    /// <summary>Every process that ran below obs at Ctrl+C must be gone (a sidecar's function, whose parent was the sidecar, too).</summary>
    private static int Verify(IReadOnlyList<ProcessId> started)
    {
        var left = started.Where(ProcessTree.IsAlive).ToList();
        if (left.Count == 0)
        {
            AnsiConsole.MarkupLineInterpolated($"[green]✓[/] Stopped: none of the {started.Count} processes the demo ran is left.");
            return 0;
        }

        foreach (var process in left)
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(process.Pid).Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Gone by itself meanwhile.
            }
        }

        AnsiConsole.MarkupLineInterpolated($"[red]{left.Count} processes did not stop and were killed:[/] {string.Join(", ", left.Select(p => p.Pid))}");
        return 1;
    }

    private static void Print(LocalSuite suite, DemoRun run, IReadOnlyList<DemoFunction> functions, bool json)
    {
        if (json)
        {
            var everything = new
            {
                suite = suite.Endpoints,
                prometheus = run.PrometheusUrl,
                functions = functions.Select(f => new { name = f.Name, version = f.Version, language = f.Language, url = f.Url.ToString(), metrics = $"http://127.0.0.1:{f.AdminPort}/metrics", warmUpPolicy = f.WarmUp?.Policy }),
            };
            Console.WriteLine(JsonSerializer.Serialize(everything, SuiteEndpoints.Json));
            return;
        }

        var table = suite.Endpoints.ToTable();
        table.AddRow("Prometheus (rules, alerts)", run.PrometheusUrl is { } p ? $"{p}/alerts, {p}/rules" : "(not running: prometheus is not installed)");
        AnsiConsole.Write(table);
        var functionTable = new Table().AddColumns("Function", "Runtime", "Send requests to", "Scales to zero after", "Warm-up policy", "Log");
        foreach (var (f, child) in functions.Zip(run.Children))
        {
            functionTable.AddRow(f.Name, f.Language, f.Grpc ? $"{f.Url} (gRPC, h2c)" : f.Url.ToString(), $"{f.IdleTimeout.TotalSeconds:0} s idle", f.WarmUp?.Policy ?? "none", Markup.Escape(child.LogFile ?? string.Empty));
        }

        AnsiConsole.Write(functionTable);
        AnsiConsole.MarkupLine("Traffic is flowing: open the web UI (any user name, the read key as password). Press [bold]Ctrl+C[/] to stop everything.");
    }

    private static void PrintCounts(TrafficCounts counts)
    {
        foreach (var (function, (sent, failed)) in counts.Snapshot().OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  {function}: {sent} requests sent, {failed} failed (on purpose: errors and crashes)");
        }
    }

    internal static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
}
