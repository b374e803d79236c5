using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Observability.Sidecar.Configuration;
using Observability.Sidecar.Diagnostics;

namespace Observability.Sidecar.Supervision;

/// <summary>
/// Supervise mode: starts the function as a child process (so its start time is known on the sidecar's own
/// clock, see <see cref="LaunchClock"/>), gives it PORT, keeps the tail of its output, waits for its port to
/// accept, restarts it after a crash with backoff, and, with an idle timeout, stops it when idle and starts it
/// again on the next request (scale to zero).
/// </summary>
internal sealed partial class SupervisedFunction : IFunctionSource
{
    private const int SigTerm = 15;

    private static readonly TimeSpan OutputEndWait = TimeSpan.FromMilliseconds(200);

    // Where the function's output goes on to (FunctionOutput writes whole lines, one write per batch).
    private static readonly Stream OwnStandardOutput = Console.OpenStandardOutput();
    private static readonly Stream OwnStandardError = Console.OpenStandardError();

    // A .NET runtime connects to the diagnostics port within milliseconds of starting; anything else never does.
    private static readonly TimeSpan RuntimeConnectTimeout = TimeSpan.FromSeconds(5);

    private readonly SupervisionContext _context;
    private readonly SidecarOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private int _launches;
    private bool _scaledToZero;
    private FunctionInstance? _current;
    private int _crashesInARow;
    private int _inFlight;
    private long _lastActivity;

    public SupervisedFunction(SupervisionContext context)
    {
        _context = context;
        _options = context.Options;
        _time = context.Time;
        _logger = context.Logger;
        _lastActivity = _time.GetTimestamp();
    }

    public FunctionInstance? Current => Volatile.Read(ref _current);

    /// <summary>
    /// Stopped after the idle timeout, to be started by the next request: the sidecar can serve (it waits for
    /// the start), so it stays ready; a probe failing now would take away the traffic that wakes the function.
    /// </summary>
    public bool ScaledToZero => Volatile.Read(ref _scaledToZero) && Current is null;

    public async Task StartAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            _current ??= Launch(startRequested: null);
        }
        finally
        {
            _gate.Release();
        }

        if (_options.IdleTimeout is { } idle)
        {
            _ = WatchIdleAsync(idle);
        }
    }

    /// <summary>Starts a stopped function (scale from zero) or waits for a starting one.</summary>
    public async Task<FunctionInstance> ReadyInstanceAsync(DateTime requestReceived, CancellationToken ct)
    {
        var instance = Current;
        if (instance is null)
        {
            await _gate.WaitAsync(ct);
            try
            {
                // Off the request's thread: with inline I/O that is an epoll thread, and fork/exec blocks it.
                instance = _current ??= await Task.Run(() => Launch(startRequested: requestReceived), ct);
            }
            finally
            {
                _gate.Release();
            }
        }

        if (!instance.IsListening)
        {
            await instance.Listening.WaitAsync(_options.ReadyTimeout, _time, ct);
        }

        return instance;
    }

    /// <summary>Marks a request in flight, so an idle stop never cuts one off.</summary>
    public IDisposable BeginRequest()
    {
        Interlocked.Increment(ref _inFlight);
        Interlocked.Exchange(ref _lastActivity, _time.GetTimestamp());
        return new RequestScope(this);
    }

    private FunctionInstance Launch(DateTime? startRequested)
    {
        Volatile.Write(ref _scaledToZero, false);
        var info = new ProcessStartInfo(_options.Command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in _options.Command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in OwnEnvironment.Variables)
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in _options.FunctionEnvironment)
        {
            info.Environment[name] = value;
        }

        info.Environment["PORT"] = _options.UpstreamPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Listen before the child starts: its runtime connects at its first instruction and waits for us.
        var monitor = _options.RuntimeDiagnostics
            ? RuntimeMonitor.Listen(Path.Combine(Path.GetTempPath(), $"obs-sidecar-{Environment.ProcessId}-{Interlocked.Increment(ref _launches)}.sock"), _context.Loggers.CreateLogger<RuntimeMonitor>(), _time)
            : null;
        foreach (var (name, value) in monitor?.ChildEnvironment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var environment = info.Environment.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!, StringComparer.Ordinal);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var beforeLaunch = _time.GetUtcNow().UtcDateTime;
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start the function: {_options.Command[0]}");
        }

        var afterLaunch = _time.GetUtcNow().UtcDateTime;
        var started = LaunchClock.ProcessStart(ProcFs.StartTime(process, afterLaunch), beforeLaunch, afterLaunch);
        var instance = new FunctionInstance(process, started.At, startRequested, environment)
        {
            ProcessStartUncertainty = started.Uncertainty,
            Output = new FunctionOutput([("stdout", PipeOf(process.StandardOutput), OwnStandardOutput), ("stderr", PipeOf(process.StandardError), OwnStandardError)], _context.Logs, _time),
        };
        process.Exited += (_, _) => _ = OnExitedAsync(instance);
        if (monitor is not null)
        {
            instance.Runtime = StartMonitorAsync(monitor, instance);
        }

        _context.Metrics.FunctionStarts.Inc();
        _context.Metrics.FunctionUp.Set(1);
        LogStarted(process.Id, _options.Command[0]);
        _ = WaitUntilListeningAsync(instance);
        _context.Started(instance);
        return instance;
    }

    private async Task WaitUntilListeningAsync(FunctionInstance instance)
    {
        if (await _context.Probe.WaitUntilAcceptingAsync(() => !instance.Process.HasExited, _disposed.Token) is { } listening)
        {
            instance.MarkListening(listening);
            // The idle clock starts when the function is ready, not when it was launched.
            Interlocked.Exchange(ref _lastActivity, _time.GetTimestamp());
            Interlocked.Exchange(ref _crashesInARow, 0);
            return;
        }

        instance.MarkFailed(new InvalidOperationException("the function exited before it accepted connections"));
    }

    /// <summary>
    /// Waits for the child's runtime to connect (a .NET function does at once; anything else never does), then
    /// monitors it. Gives up when the child exits first. Null: not monitored.
    /// </summary>
    private async Task<RuntimeMonitor?> StartMonitorAsync(RuntimeMonitor monitor, FunctionInstance instance)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
        var start = monitor.StartAsync(instance.Process.Id, RuntimeConnectTimeout, stop.Token);
        if (await Task.WhenAny(start, instance.Exited) != start)
        {
            await stop.CancelAsync();
        }

        try
        {
            if (await start)
            {
                return monitor;
            }
        }
        catch (OperationCanceledException)
        {
            // The function exited before its runtime connected, or the sidecar is stopping.
        }

        await monitor.DisposeAsync();
        return null;
    }

    private async Task OnExitedAsync(FunctionInstance instance)
    {
        var code = instance.Process.ExitCode;
        instance.MarkFailed(new InvalidOperationException($"the function exited with code {code}"));
        instance.MarkExited(code);
        await instance.StopRuntimeMonitorAsync();
        await _gate.WaitAsync();
        try
        {
            if (!ReferenceEquals(_current, instance))
            {
                return;
            }

            _current = null;
            _context.Metrics.FunctionUp.Set(0);
            // An instance stopped for idleness is no longer current, so it returned above.
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            _context.Metrics.FunctionCrashes.Inc();
            LogExited(instance.Process.Id, code);
            _context.Exited(instance, code);
        }
        finally
        {
            _gate.Release();
        }

        // Restart eagerly after a crash so the next request finds it warming; back off when it keeps crashing.
        var crashes = Interlocked.Increment(ref _crashesInARow);
        var delay = TimeSpan.FromMilliseconds(Math.Min(30_000, _options.RestartBackoff.TotalMilliseconds * Math.Pow(2, crashes - 1)));
        try
        {
            await Task.Delay(delay, _time, _disposed.Token);
            await _gate.WaitAsync(_disposed.Token);
            try
            {
                _current ??= Launch(startRequested: null);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    private async Task WatchIdleAsync(TimeSpan idle)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(10, idle.TotalMilliseconds / 10)), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_disposed.Token))
            {
                if (Current is { IsListening: true } instance && Volatile.Read(ref _inFlight) == 0
                    && _time.GetElapsedTime(Interlocked.Read(ref _lastActivity)) >= idle)
                {
                    await StopForIdleAsync(instance);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    private async Task StopForIdleAsync(FunctionInstance instance)
    {
        await _gate.WaitAsync();
        try
        {
            if (!ReferenceEquals(_current, instance) || Volatile.Read(ref _inFlight) > 0)
            {
                return;
            }

            _current = null;
            Volatile.Write(ref _scaledToZero, true);
            _context.Metrics.FunctionUp.Set(0);
            _context.Metrics.IdleStops.Inc();
            LogIdleStop(instance.Process.Id);
        }
        finally
        {
            _gate.Release();
        }

        await StopProcessAsync(instance.Process);
    }

    private async Task StopProcessAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        // SIGTERM first, as a platform would, so the function can shut down cleanly; SIGKILL if it does not.
        _ = Kill(process.Id, SigTerm);
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5), _time);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static SafeHandle PipeOf(StreamReader reader) => reader.BaseStream switch
    {
        PipeStream pipe => pipe.SafePipeHandle,
        FileStream file => file.SafeFileHandle,
        var other => throw new NotSupportedException($"the function's output is a {other.GetType().Name}, not a pipe"),
    };

    /// <summary>Stops the function and passes on its last lines.</summary>
    public async ValueTask DisposeAsync()
    {
        // The token and the gate are left to the collector: exit handlers may still be running on them.
        await _disposed.CancelAsync();
        var instance = Current;
        if (instance?.Process is { } process)
        {
            await StopProcessAsync(process);
        }

        // The function's last lines, before the sidecar's own output closes. A child the function left running
        // may hold its pipes open: read what is there rather than wait for their end.
        if (instance?.Output is { } output)
        {
            await Task.WhenAny(output.Completion, Task.Delay(OutputEndWait, _time));
            output.CatchUp();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Started function (pid {Pid}): {Program}")]
    private partial void LogStarted(int pid, string program);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Function (pid {Pid}) exited with code {ExitCode}; restarting")]
    private partial void LogExited(int pid, int exitCode);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Function (pid {Pid}) idle: stopped until the next request")]
    private partial void LogIdleStop(int pid);

    private sealed class RequestScope(SupervisedFunction owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Exchange(ref owner._lastActivity, owner._time.GetTimestamp());
                Interlocked.Decrement(ref owner._inFlight);
            }
        }
    }
}
