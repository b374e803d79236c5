using System.Diagnostics;
using System.Globalization;
using System.Text;
using Observability.Dashboards.Tests.Grafana;
using Observability.Hosting;
using Observability.Testing;

namespace Observability.Dashboards.Tests.Prometheus;

/// <summary>
/// A real obs-sidecar supervising the sample .NET function (samples/HelloFunction), exporting to a collector:
/// the launch of tests/Observability.Sidecar.Tests/SidecarRunner, cut to what this test needs.
/// </summary>
internal sealed class SidecarProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private SidecarProcess(Process process, StringBuilder output, int port, int adminPort)
    {
        _process = process;
        _output = output;
        Port = port;
        AdminPort = adminPort;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public int AdminPort { get; }

    /// <summary>Calls the function through the sidecar.</summary>
    public HttpClient Client { get; }

    /// <summary>The admin port: /metrics, /healthz.</summary>
    public HttpClient Admin { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="name">faas.name of the function.</param>
    /// <param name="version">faas.version.</param>
    /// <param name="collector">Where the spans and snapshots go.</param>
    /// <param name="samplingRatio">The head-sampling ratio, so that spans are sampled out and the rest carry their adjusted counts.</param>
    /// <param name="warmUpToken">The token that makes a request a warm-up ping (the scheduler's).</param>
    /// <param name="idleTimeout">Scale to zero after this long idle, so that the next ping finds the function cold; null: never.</param>
    public static async Task<SidecarProcess> StartAsync(string name, string version, CollectorRunner collector, double samplingRatio, string warmUpToken, TimeSpan? idleTimeout = null)
    {
        int port = LocalPostgres.FreePort(), adminPort = LocalPostgres.FreePort(), upstreamPort = LocalPostgres.FreePort();
        // OBS_SIDECAR names the natively compiled sidecar (scripts/test.sh), as it ships; else the build output.
        var (program, prefix) = Environment.GetEnvironmentVariable("OBS_SIDECAR") is { Length: > 0 } path
            ? (path, Array.Empty<string>())
            : ("dotnet", [RepositoryFiles.Built("agents", "Observability.Sidecar.Cli", "obs-sidecar.dll")]);
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        string[] args =
        [
            .. prefix,
            "--name", name, "--version", version,
            "--port", $"{port}", "--admin-port", $"{adminPort}", "--upstream-port", $"{upstreamPort}",
            "--otlp-endpoint", collector.OtlpHttpEndpoint.ToString(),
            "--otlp-headers", "Authorization=Bearer " + CollectorRunner.WriteKey,
            $"--Sidecar:FunctionEnvironment:FUNCTION_NAME={name}",
            "--Sidecar:SamplingRatio=" + samplingRatio.ToString(CultureInfo.InvariantCulture),
            "--warmup-token", warmUpToken,
            .. idleTimeout is { } idle ? ["--Sidecar:IdleTimeout=" + idle.ToString("c", CultureInfo.InvariantCulture)] : Array.Empty<string>(),
            "--Logging:LogLevel:Default=Warning",
            "--route", "/hello", "--route", "/throw",
            "--", "dotnet", RepositoryFiles.Built("samples", "HelloFunction", "HelloFunction.dll"),
        ];
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var sidecar = new SidecarProcess(process, output, port, adminPort);
        await Poll.UntilAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"obs-sidecar exited with {process.ExitCode}: {sidecar.Output}");
                }

                try
                {
                    return (await sidecar.Admin.GetAsync("/healthz")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            up => up,
            TimeSpan.FromSeconds(60),
            "obs-sidecar to listen");
        return sidecar;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Admin.Dispose();
        if (!_process.HasExited)
        {
            // SIGTERM: the sidecar stops its function, as under an orchestrator; a kill if it hangs.
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }
}
