using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Observability.Hosting;
using Observability.Testing;

namespace Observability.Sidecar.Tests.Diagnostics;

/// <summary>
/// A process started directly by a test (no sidecar): the built sample .NET function, or any program. Disposing kills
/// it by pid: a runtime left suspended does not die with its monitor.
/// </summary>
internal sealed class FunctionProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private int _disposed;

    private FunctionProcess(Process process, int port)
    {
        Process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public Process Process { get; }

    public int Pid => Process.Id;

    public int Port { get; }

    public HttpClient Client { get; }

    /// <summary>The kernel's start time of the process (10 ms resolution, rounded down).</summary>
    public DateTime StartTime => Process.StartTime.ToUniversalTime();

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

    /// <summary>The sample HelloFunction (`dotnet HelloFunction.dll`) on a free port, with extra environment.</summary>
    public static FunctionProcess StartHello(IReadOnlyDictionary<string, string>? environment = null) =>
        Start("dotnet", [SampleDll], environment);

    public static FunctionProcess Start(string program, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = LocalPostgres.FreePort();
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["PORT"] = $"{port}";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        var started = new FunctionProcess(process, port);
        process.OutputDataReceived += (_, e) => started.Append(e.Data);
        process.ErrorDataReceived += (_, e) => started.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Waits until the port accepts a connection; returns when it first did.</summary>
    public Task<DateTime> WaitUntilAcceptingAsync() => Poll.UntilAsync(
        async () =>
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"The function exited with {Process.ExitCode}: {Output}");
            }

            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync("127.0.0.1", Port);
                return DateTime.UtcNow;
            }
            catch (SocketException)
            {
                return DateTime.MinValue;
            }
        },
        accepted => accepted != DateTime.MinValue,
        TimeSpan.FromSeconds(20),
        "the function to accept connections");

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Client.Dispose();
        if (!Process.HasExited)
        {
            // SIGTERM first: a .NET runtime that exits cleanly removes its diagnostic socket from /tmp; SIGKILL
            // (also the way out for a runtime left suspended) leaves it behind.
            using (var kill = Process.Start("kill", ["-TERM", $"{Pid}"]))
            {
                await kill.WaitForExitAsync();
            }

            try
            {
                await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(3));
            }
            catch (TimeoutException)
            {
                Process.Kill(entireProcessTree: true);
                await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }

        Process.Dispose();
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static string SampleDll => RepositoryFiles.Built("samples", "HelloFunction", "HelloFunction.dll");
}
