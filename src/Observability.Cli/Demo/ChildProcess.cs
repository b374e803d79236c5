using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Observability.Cli.Demo;

/// <summary>
/// A program the demo or `obs attach` runs (a sidecar, Prometheus): its output goes to a log file (or to the
/// terminal), and stopping it is SIGTERM first, so that a sidecar stops its function and flushes its spans, then
/// a kill of its whole tree when it does not stop in time.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter? _log;

    private ChildProcess(string name, Process process, StreamWriter? log, string? logFile)
    {
        Name = name;
        _process = process;
        _log = log;
        LogFile = logFile;
    }

    public string Name { get; }

    public string? LogFile { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="program"/>; with <paramref name="logFile"/> its output is appended there, else it shares the terminal.</summary>
    public static ChildProcess Start(string name, string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? logFile = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = logFile is not null,
            RedirectStandardError = logFile is not null,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        StreamWriter? log = null;
        if (logFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
            log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception e)
        {
            log?.Dispose();
            throw new InvalidOperationException($"{program} could not be started for {name} ({e.Message}).", e);
        }

        if (log is not null)
        {
            process.OutputDataReceived += (_, e) => Write(log, e.Data);
            process.ErrorDataReceived += (_, e) => Write(log, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        return new ChildProcess(name, process, log, logFile);
    }

    public Task WaitForExitAsync(CancellationToken ct) => _process.WaitForExitAsync(ct);

    /// <summary>
    /// Polls <paramref name="ready"/> until it answers 2xx; throws, naming the log file, when the process exits first
    /// or <paramref name="within"/> passes.
    /// </summary>
    public async Task WaitUntilReadyAsync(Uri ready, TimeSpan within, CancellationToken ct)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        var deadline = Environment.TickCount64 + (long)within.TotalMilliseconds;
        while (true)
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {ExitCode} at start: see {LogFile}");
            }

            try
            {
                using var answer = await client.GetAsync(ready, ct);
                if (answer.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
            {
                // Not listening or not answering yet.
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new InvalidOperationException($"{Name} did not answer {ready} within {within.TotalSeconds:0} s: see {LogFile}");
            }

            await timer.WaitForNextTickAsync(ct);
        }
    }

    /// <summary>SIGTERM, then SIGKILL to the whole tree after <paramref name="grace"/>. True when it stopped by itself.</summary>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return true;
        }

        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        try
        {
            await _process.WaitForExitAsync().WaitAsync(grace);
            return true;
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(15));
        _process.Dispose();
        if (_log is not null)
        {
            await _log.DisposeAsync();
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }
}
