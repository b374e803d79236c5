using System.CommandLine;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Observability.Collector;
using Observability.Collector.Configuration;
using Observability.Collector.Security;
using Observability.Hosting;
using Observability.WarmUp.Scheduling;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>`obs up`: the whole suite on this machine, until Ctrl+C.</summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Folder for the private PostgreSQL cluster and the generated keys.", DefaultValueFactory = _ => ".data" };
        var databaseUrl = new Option<string?>("--database-url") { Description = "Use this PostgreSQL instead of a private cluster (default: OBS_DATABASE_URL, else a private cluster)." };
        var listen = new Option<string>("--listen") { Description = "Address the collector's ports bind to.", DefaultValueFactory = _ => "127.0.0.1" };
        var grpcPort = new Option<int>("--grpc-port") { Description = "OTLP/gRPC port.", DefaultValueFactory = _ => 4317 };
        var otlpPort = new Option<int>("--otlp-port") { Description = "OTLP/HTTP port.", DefaultValueFactory = _ => 4318 };
        var httpPort = new Option<int>("--http-port") { Description = "Query API, UI and /metrics port.", DefaultValueFactory = _ => 8080 };
        var json = new Option<bool>("--json") { Description = "Print the endpoints and keys as JSON (for scripts) instead of a table." };
        var warmUpTargets = new Option<string?>("--warmup-targets") { Description = "YAML file of functions the warm-up scheduler keeps warm (docs/warm-up.md); sidecars that advertise a warm-up URL are found without it." };
        var warmUpPort = new Option<int>("--warmup-port") { Description = "Warm-up scheduler port: Hangfire dashboard (/hangfire) and its /metrics.", DefaultValueFactory = _ => 8090 };

        var command = new Command("up", "Run the suite on this machine: a private PostgreSQL (unless one is given) and the collector.")
        {
            dataDir, databaseUrl, listen, grpcPort, otlpPort, httpPort, json, warmUpTargets, warmUpPort,
        };
        command.SetAction(async (result, ct) =>
        {
            var dir = Path.GetFullPath(result.GetValue(dataDir)!);
            var url = result.GetValue(databaseUrl) ?? Environment.GetEnvironmentVariable("OBS_DATABASE_URL");
            var keys = LocalKeys.Load(dir);
            LocalPostgres? postgres = null;
            WebApplication? collector = null;
            WebApplication? scheduler = null;
            try
            {
                if (url is null)
                {
                    postgres = await Step("Starting PostgreSQL (the first run initialises a cluster)", () =>
                        LocalPostgres.StartAsync(Path.Combine(dir, "postgres"), port: PersistentPort(dir), ct: ct));
                    url = postgres.ConnectionString();
                }

                collector = CollectorApp.Build(["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Observability=Information"], o =>
                {
                    o.DatabaseUrl = url;
                    o.WriteKey = keys.WriteKey;
                    o.ReadKey = keys.ReadKey;
                    o.MetricsKey = keys.MetricsKey;
                    o.ListenAddress = result.GetValue(listen)!;
                    o.OtlpGrpcPort = result.GetValue(grpcPort);
                    o.OtlpHttpPort = result.GetValue(otlpPort);
                    o.HttpPort = result.GetValue(httpPort);
                });
                await Step("Starting the collector (schema, partitions, ports)", () => collector.StartAsync(ct));
                if (keys.WarmUpToken is not null)
                {
                    // The same database and keys as the collector: the scheduler reads the collector's tables.
                    scheduler = WarmUpScheduler.Build(["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Observability=Information"], o =>
                    {
                        o.DatabaseUrl = url;
                        o.ReadKey = keys.ReadKey;
                        o.MetricsKey = keys.MetricsKey;
                        o.WarmUpToken = keys.WarmUpToken;
                        o.ListenAddress = result.GetValue(listen)!;
                        o.Port = result.GetValue(warmUpPort);
                        o.TargetsFile = result.GetValue(warmUpTargets);
                    });
                    await Step("Starting the warm-up scheduler (Hangfire)", () => scheduler.StartAsync(ct));
                }

                PrintEndpoints(collector, scheduler, keys, postgres, result.GetValue(json));
                await collector.WaitForShutdownAsync(ct);
                return 0;
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
                AnsiConsole.MarkupLineInterpolated($"[red]obs up failed:[/] {e.Message}");
                return 1;
            }
            finally
            {
                if (scheduler is not null)
                {
                    await scheduler.DisposeAsync();
                }

                if (collector is not null)
                {
                    await collector.DisposeAsync();
                }

                if (postgres is not null)
                {
                    await postgres.DisposeAsync();
                }
            }
        });
        return command;
    }

    private static async Task<T> Step<T>(string what, Func<Task<T>> action)
    {
        T value = default!;
        await AnsiConsole.Status().StartAsync(what + "…", async _ => value = await action());
        AnsiConsole.MarkupLineInterpolated($"[green]✓[/] {what}");
        return value;
    }

    private static Task<bool> Step(string what, Func<Task> action) => Step(what, async () =>
    {
        await action();
        return true;
    });

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

    private static void PrintEndpoints(WebApplication collector, WebApplication? scheduler, LocalKeys keys, LocalPostgres? postgres, bool json)
    {
        var ports = collector.Services.GetRequiredService<CollectorListeners>();
        var host = "127.0.0.1";
        var scheme = string.IsNullOrWhiteSpace(collector.Services.GetRequiredService<IOptions<CollectorOptions>>().Value.TlsCertificateFile) ? "http" : "https";
        var endpoints = new
        {
            ui = $"{scheme}://{host}:{ports.Port(ListenerRole.Api)}/ui/",
            otlpGrpc = $"{scheme}://{host}:{ports.Port(ListenerRole.OtlpGrpc)}",
            otlpHttp = $"{scheme}://{host}:{ports.Port(ListenerRole.OtlpHttp)}",
            api = $"{scheme}://{host}:{ports.Port(ListenerRole.Api)}/api/v1",
            jaeger = $"{scheme}://{host}:{ports.Port(ListenerRole.Api)}/jaeger",
            metrics = $"{scheme}://{host}:{ports.Port(ListenerRole.Api)}/metrics",
            hangfire = scheduler is null ? null : $"http://{host}:{WarmUpScheduler.Port(scheduler)}/hangfire",
            database = postgres?.Url(),
            writeKey = keys.WriteKey,
            readKey = keys.ReadKey,
            metricsKey = keys.MetricsKey,
            warmUpToken = keys.WarmUpToken,
        };
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(endpoints));
            return;
        }

        var table = new Table().AddColumns("What", "Where");
        table.AddRow("Web UI (any user name, the read key as password)", endpoints.ui);
        table.AddRow("OTLP/gRPC", endpoints.otlpGrpc);
        table.AddRow("OTLP/HTTP", endpoints.otlpHttp + "/v1/traces, /v1/logs");
        table.AddRow("Query API", endpoints.api);
        table.AddRow("Jaeger API (Grafana)", endpoints.jaeger);
        table.AddRow("Prometheus metrics", endpoints.metrics);
        table.AddRow("Warm-up scheduler (Hangfire, read key)", endpoints.hangfire ?? "(not started: no warm-up token)");
        table.AddRow("PostgreSQL", Markup.Escape(endpoints.database ?? "(given by OBS_DATABASE_URL)"));
        table.AddRow("Write key (ingest)", keys.WriteKey);
        table.AddRow("Read key (queries)", keys.ReadKey);
        table.AddRow("Metrics key (/metrics only)", keys.MetricsKey ?? "(none: /metrics takes the read key)");
        table.AddRow("Warm-up token (sidecars' --warmup-token)", keys.WarmUpToken ?? "(none: no request is a warm-up ping)");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Send telemetry with [blue]OTEL_EXPORTER_OTLP_ENDPOINT=" + endpoints.otlpHttp + " OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer " + keys.WriteKey + "\"[/]");
        AnsiConsole.MarkupLine("Press [bold]Ctrl+C[/] to stop.");
    }
}
