using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Observability.Cli.Demo;
using Observability.Cli.Suite;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>
/// `obs attach -- COMMAND`: starts obs-sidecar in front of any function command line in one step, exporting to the
/// running suite with its write key and accepting its warm-up token, until Ctrl+C.
/// </summary>
internal static class AttachCommand
{
    public static Command Create()
    {
        var name = new Option<string?>("--name") { Description = "The function's name (faas.name); default: the command's file name, e.g. App for dotnet App.dll." };
        var port = new Option<int>("--port") { Description = "Port clients call (the sidecar's).", DefaultValueFactory = _ => 8081 };
        var upstreamPort = new Option<int>("--upstream-port") { Description = "Port the function listens on, given to it as PORT (0: any free port).", DefaultValueFactory = _ => 0 };
        var adminPort = new Option<int>("--admin-port") { Description = "The sidecar's /metrics and /healthz port (0: any free port).", DefaultValueFactory = _ => 0 };
        var idleTimeout = new Option<TimeSpan?>("--idle-timeout") { Description = "Scale to zero: stop the function after this long idle (e.g. 00:05:00); default: never." };
        var dataDir = new Option<string>("--data-dir") { Description = "The data folder of the running `obs up` (its keys and endpoints); .data/demo is tried after it.", DefaultValueFactory = _ => ".data" };
        var collector = new Option<string?>("--otlp-endpoint") { Description = "The collector's OTLP/HTTP URL; default: OTEL_EXPORTER_OTLP_ENDPOINT, else where the running suite listens, else http://127.0.0.1:4318." };
        var json = new Option<bool>("--json") { Description = "Print where to send requests as one line of JSON." };
        var functionCommand = new Argument<string[]>("command") { Description = "The function's command line, after --.", Arity = ArgumentArity.OneOrMore };

        var command = new Command("attach", "Run a function command line behind obs-sidecar, traced into the running suite, until Ctrl+C.")
        {
            name, port, upstreamPort, adminPort, idleTimeout, dataDir, collector, json, functionCommand,
        };
        command.SetAction(async (result, ct) =>
        {
            var commandLine = result.GetValue(functionCommand)!;
            string sidecar;
            string endpoint;
            AttachKeys keys;
            try
            {
                var folders = new[] { Path.GetFullPath(result.GetValue(dataDir)!), Path.GetFullPath(Path.Combine(".data", "demo")) };
                endpoint = result.GetValue(collector) ?? Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") ?? RunningSuite(folders) ?? "http://127.0.0.1:4318";
                keys = AttachKeys.Find(folders);
                sidecar = await Builds.SidecarAsync(ct);
            }
            catch (InvalidOperationException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]obs attach failed:[/] {e.Message}");
                return 1;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return 130;
            }

            var function = result.GetValue(name) ?? NameOf(commandLine);
            var proxyPort = result.GetValue(port);
            var admin = Or(result.GetValue(adminPort));
            List<string> args =
            [
                "--name", function, "--port", Text(proxyPort), "--admin-port", Text(admin), "--upstream-port", Text(Or(result.GetValue(upstreamPort))),
                "--otlp-endpoint", endpoint, "--otlp-headers", "Authorization=Bearer " + keys.WriteKey,
            ];
            if (keys.WarmUpToken is not null)
            {
                args.AddRange(["--warmup-token", keys.WarmUpToken]);
            }

            if (result.GetValue(idleTimeout) is { } idle)
            {
                args.AddRange(["--idle-timeout", idle.ToString("c", CultureInfo.InvariantCulture)]);
            }

            var url = $"http://127.0.0.1:{Text(proxyPort)}/";
            if (result.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { name = function, url, metrics = $"http://127.0.0.1:{Text(admin)}/metrics", otlpEndpoint = endpoint }, SuiteEndpoints.Json));
            }
            else
            {
                AnsiConsole.MarkupLineInterpolated($"Send requests to [blue]{url}[/]: [bold]{function}[/] behind obs-sidecar, traced to {endpoint}; its metrics at http://127.0.0.1:{Text(admin)}/metrics. Ctrl+C stops both.");
            }

            await using var child = ChildProcess.Start(function, sidecar, [.. args, "--", .. commandLine]);
            try
            {
                await child.WaitForExitAsync(ct);
                return child.ExitCode;
            }
            catch (OperationCanceledException)
            {
                return await child.StopAsync(TimeSpan.FromSeconds(15)) ? 0 : 1;
            }
        });
        return command;
    }

    /// <summary>The OTLP/HTTP URL of the suite that `obs up` or `obs demo` runs from one of these data folders.</summary>
    private static string? RunningSuite(IEnumerable<string> folders)
    {
        foreach (var folder in folders)
        {
            var file = Path.Combine(folder, LocalSuite.EndpointsFile);
            if (File.Exists(file) && JsonDocument.Parse(File.ReadAllText(file)).RootElement.TryGetProperty("otlpHttp", out var otlp))
            {
                return otlp.GetString();
            }
        }

        return null;
    }

    // "dotnet bin/Checkout.dll" → Checkout, "node server.js" → server, "./handler" → handler.
    private static string NameOf(string[] commandLine)
    {
        var file = commandLine.Skip(1).FirstOrDefault(File.Exists) ?? commandLine[0];
        return Path.GetFileNameWithoutExtension(file);
    }

    private static int Or(int port) => port == 0 ? Hosting.LocalPostgres.FreePort() : port;

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);
}
