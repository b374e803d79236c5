using System.Diagnostics;
using Observability.Hosting;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>A real obs-sidecar process on loopback, supervising the sample .NET function, as it is deployed.</summary>
internal sealed class SidecarRunner : IAsyncDisposable
{
    private readonly Process _process;

    private readonly System.Text.StringBuilder _output;
    private bool _disposed;

    /// <summary>
    /// The sample functions' paths, as an operator would configure them (--route), so that spans are named
    /// "GET /hello" and not just "GET". A test that passes Routes settings of its own gets only those.
    /// </summary>
    public static readonly string[] SampleRoutes = ["/", "/hello", "/throw", "/background-failure", "/crash", "/slow", "/stream", "/call", "/ws", "/echo"];

    private SidecarRunner(Process process, System.Text.StringBuilder output, int port, int adminPort)
    {
        _process = process;
        _output = output;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}") };
    }

    public int Port { get; }

    /// <summary>The sidecar's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Everything the sidecar and its function wrote so far.</summary>
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

    /// <summary>Calls the function through the sidecar.</summary>
    public HttpClient Client { get; }

    /// <summary>The sidecar's admin port: /metrics, /healthz, /readyz.</summary>
    public HttpClient Admin { get; }

    /// <param name="name">The function name (faas.name, service.name).</param>
    /// <param name="collector">Where spans go; null: an OTLP endpoint where nothing listens.</param>
    /// <param name="settings">More sidecar settings, as Key=value (e.g. "IdleTimeout=00:00:00.4", "FunctionEnvironment:INIT_DELAY_MS=300"); one starting with "--" is passed as it is (e.g. "--Logging:LogLevel:Default=Information").</param>
    public static Task<SidecarRunner> StartAsync(string name, CollectorRunner? collector, params string[] settings) =>
        StartAsync(name, collector, ["dotnet", RepositoryFiles.Built("samples", "HelloFunction", "HelloFunction.dll")], settings);

    /// <summary>The sample gRPC function behind a sidecar speaking h2c.</summary>
    public static Task<SidecarRunner> StartGrpcAsync(string name, CollectorRunner collector, params string[] settings) =>
        StartAsync(name, collector, ["dotnet", RepositoryFiles.Built("samples", "GrpcFunction", "GrpcFunction.dll")], ["Http2=true", .. settings]);

    /// <summary>The Node.js sample function behind a sidecar.</summary>
    public static Task<SidecarRunner> StartNodeAsync(string name, CollectorRunner collector) =>
        StartAsync(name, collector, ["node", Path.Combine(RepositoryRoot, "samples", "node-hello", "server.js")], []);

    /// <summary>Any command as the function, e.g. one that never listens.</summary>
    public static Task<SidecarRunner> StartCommandAsync(string name, CollectorRunner collector, string[] command, params string[] settings) =>
        StartAsync(name, collector, command, settings);

    /// <summary>The sample .NET function behind a sidecar on a given proxy port (a restarted sidecar keeps its port).</summary>
    public static Task<SidecarRunner> StartOnPortAsync(string name, int port, params string[] settings) =>
        StartAsync(name, null, ["dotnet", RepositoryFiles.Built("samples", "HelloFunction", "HelloFunction.dll")], settings, port: port);

    /// <summary>Attach mode: a sidecar in front of a function already running (or to come) on a port.</summary>
    public static Task<SidecarRunner> StartAttachedAsync(string name, CollectorRunner collector, int upstreamPort) =>
        StartAsync(name, collector, [], [], upstreamPort);

    /// <summary>The sample .NET function as a plain process, not under a sidecar (for attach mode).</summary>
    public static Process StartFunction(string name, int port)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(RepositoryFiles.Built("samples", "HelloFunction", "HelloFunction.dll"));
        info.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["FUNCTION_NAME"] = name;
        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<SidecarRunner> StartAsync(string name, CollectorRunner? collector, string[] function, string[] settings, int? upstreamPort = null, int? port = null)
    {
        port ??= LocalPostgres.FreePort();
        var adminPort = LocalPostgres.FreePort();
        var (program, prefix) = Executable;
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        string[] args =
        [
            .. prefix,
            "--name", name, "--version", "1",
            "--port", $"{port}", "--admin-port", $"{adminPort}", "--upstream-port", $"{upstreamPort ?? LocalPostgres.FreePort()}",
            "--otlp-endpoint", collector?.OtlpHttpEndpoint.ToString() ?? $"http://127.0.0.1:{LocalPostgres.FreePort()}",
            "--otlp-headers", "Authorization=Bearer " + CollectorRunner.WriteKey,
            $"--Sidecar:FunctionEnvironment:FUNCTION_NAME={name}",
            "--Logging:LogLevel:Default=Warning",
            .. settings.Any(s => s.StartsWith("Routes:", StringComparison.Ordinal)) ? [] : SampleRoutes.SelectMany(r => new[] { "--route", r }),
            .. settings.Select(s => s.StartsWith("--", StringComparison.Ordinal) ? s : "--Sidecar:" + s),
            .. function.Length > 0 ? ["--", .. function] : Array.Empty<string>(),
        ];
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var runner = new SidecarRunner(process, output, port.Value, adminPort);
        await Poll.UntilAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"obs-sidecar exited with {process.ExitCode}: {output}");
                }

                try
                {
                    return (await runner.Admin.GetAsync("/healthz")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            up => up,
            TimeSpan.FromSeconds(30),
            "obs-sidecar to listen");
        return runner;
    }

    public static string RepositoryRoot => RepositoryFiles.Root;

    /// <summary>
    /// obs-sidecar as OBS_SIDECAR names it (scripts/test.sh sets the natively compiled one, as it ships), or
    /// the build output run with dotnet.
    /// </summary>
    public static (string Program, string[] Prefix) Executable =>
        Environment.GetEnvironmentVariable("OBS_SIDECAR") is { Length: > 0 } path
            ? (path, [])
            : ("dotnet", [RepositoryFiles.Built("agents", "Observability.Sidecar.Cli", "obs-sidecar.dll")]);

    /// <summary>SIGKILL to the sidecar and its function, as an out-of-memory kill or a node failure would.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <remarks>Idempotent: a test may stop the sidecar early (to flush its spans) inside an await using.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Client.Dispose();
        Admin.Dispose();
        if (!_process.HasExited)
        {
            // SIGTERM: the sidecar stops its function and flushes its spans, as under a real orchestrator.
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"obs-sidecar did not stop within 15 s of SIGTERM: {Output}");
            }

            // A clean stop is part of the contract: it flushes spans and snapshots.
            if (_process.ExitCode != 0)
            {
                throw new InvalidOperationException($"obs-sidecar exited with {_process.ExitCode} on SIGTERM: {Output}");
            }
        }

        _process.Dispose();
    }
}
