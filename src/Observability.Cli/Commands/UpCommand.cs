using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Observability.Cli.Suite;
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
            var settings = new SuiteSettings(
                result.GetValue(dataDir)!,
                result.GetValue(databaseUrl) ?? Environment.GetEnvironmentVariable("OBS_DATABASE_URL"),
                result.GetValue(listen)!,
                result.GetValue(grpcPort),
                result.GetValue(otlpPort),
                result.GetValue(httpPort),
                result.GetValue(warmUpPort),
                result.GetValue(warmUpTargets));
            return await LocalSuite.RunAsync(settings, "obs up", async suite =>
            {
                PrintEndpoints(suite.Endpoints, result.GetValue(json));
                await suite.Collector!.WaitForShutdownAsync(ct);
                return 0;
            }, ct);
        });
        return command;
    }

    private static void PrintEndpoints(SuiteEndpoints endpoints, bool json)
    {
        if (json)
        {
            Console.WriteLine(endpoints.ToJson());
            return;
        }

        AnsiConsole.Write(endpoints.ToTable());
        AnsiConsole.MarkupLine("Send telemetry with [blue]OTEL_EXPORTER_OTLP_ENDPOINT=" + endpoints.OtlpHttp + " OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer " + endpoints.WriteKey + "\"[/]");
        AnsiConsole.MarkupLine("Press [bold]Ctrl+C[/] to stop.");
    }
}
