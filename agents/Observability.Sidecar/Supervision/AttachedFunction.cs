using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Observability.Sidecar.Configuration;
using Observability.Sidecar.Diagnostics;

namespace Observability.Sidecar.Supervision;

/// <summary>
/// Attach mode: waits for a process it did not start to accept on the upstream port, finds it through /proc
/// (or takes --pid), reads its start time and environment there, and follows it until it exits.
/// </summary>
internal sealed partial class AttachedFunction : IFunctionSource
{
    // Not our child: no exit event, so look this often.
    private static readonly TimeSpan ExitWatch = TimeSpan.FromMilliseconds(250);

    private readonly SupervisionContext _context;
    private readonly SidecarOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposed = new();
    private readonly DateTime _started;
    private FunctionInstance? _current;
    private TaskCompletionSource<FunctionInstance> _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public AttachedFunction(SupervisionContext context)
    {
        _context = context;
        _options = context.Options;
        _time = context.Time;
        _logger = context.Logger;
        _started = _time.GetUtcNow().UtcDateTime;
    }

    public FunctionInstance? Current => Volatile.Read(ref _current);

    /// <summary>Never: the sidecar cannot stop a function it did not start.</summary>
    public bool ScaledToZero => false;

    public Task StartAsync(CancellationToken ct)
    {
        _ = AttachLoopAsync();
        return Task.CompletedTask;
    }

    /// <summary>The attached instance, or the next one found within ReadyTimeout.</summary>
    public async Task<FunctionInstance> ReadyInstanceAsync(DateTime requestReceived, CancellationToken ct)
    {
        var instance = Current ?? await Volatile.Read(ref _attached).Task.WaitAsync(_options.ReadyTimeout, _time, ct);
        if (!instance.IsListening)
        {
            await instance.Listening.WaitAsync(_options.ReadyTimeout, _time, ct);
        }

        return instance;
    }

    /// <summary>Nothing to track: attach mode never stops the function for idleness.</summary>
    public IDisposable BeginRequest() => NoScope.Instance;

    /// <summary>
    /// Each time the function's port starts accepting, find the process behind it and follow it until it exits
    /// (a container restart brings a new one). Its first request is cold only if it started after the sidecar:
    /// a process that was already serving has paid its cold start before we could see it.
    /// </summary>
    private async Task AttachLoopAsync()
    {
        while (!_disposed.IsCancellationRequested)
        {
            if (await _context.Probe.WaitUntilAcceptingAsync(() => true, _disposed.Token) is not { } listening)
            {
                return;
            }

            var pid = _options.Pid ?? ProcFs.FindListeningPid(_options.UpstreamPort);
            Process? process = null;
            try
            {
                process = pid is { } p ? Process.GetProcessById(p) : null;
            }
            catch (ArgumentException)
            {
                // Exited since.
            }

            if (process is null)
            {
                // Someone accepts, but not a process we can see (another pid namespace, or gone): look again later.
                LogNotFound(_options.UpstreamPort);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, _disposed.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            var start = ProcFs.StartTime(process, listening.At);
            var instance = new FunctionInstance(process, start, startRequested: null, ProcFs.ReadEnvironment(process.Id)) { CanBeCold = start >= _started, ProcessStartUncertainty = LaunchClock.KernelTick };
            instance.MarkListening(listening);
            if (_options.RuntimeDiagnostics)
            {
                instance.Runtime = RuntimeMonitor.AttachAsync(process.Id, _context.Loggers.CreateLogger<RuntimeMonitor>(), _time, _disposed.Token);
            }

            Volatile.Write(ref _current, instance);
            _context.Started(instance);
            _attached.TrySetResult(instance);
            _context.Metrics.FunctionStarts.Inc();
            _context.Metrics.FunctionUp.Set(1);
            LogAttached(process.Id);

            await WatchUntilExitAsync(process.Id, start);

            Volatile.Write(ref _attached, new TaskCompletionSource<FunctionInstance>(TaskCreationOptions.RunContinuationsAsynchronously));
            Volatile.Write(ref _current, null);
            _context.Metrics.FunctionUp.Set(0);
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            instance.MarkExited(null);
            await instance.StopRuntimeMonitorAsync();
            _context.Metrics.FunctionCrashes.Inc();
            LogExited(process.Id, -1);
            _context.Exited(instance, null);
        }
    }

    private async Task WatchUntilExitAsync(int pid, DateTime start)
    {
        using var watch = new PeriodicTimer(ExitWatch, _time);
        try
        {
            while (ProcFs.IsAlive(pid, start) && await watch.WaitForNextTickAsync(_disposed.Token))
            {
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    /// <summary>Stops following the function; the function itself keeps running.</summary>
    public async ValueTask DisposeAsync() => await _disposed.CancelAsync();

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Function (pid {Pid}) exited with code {ExitCode}; restarting")]
    private partial void LogExited(int pid, int exitCode);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Attached to the function (pid {Pid})")]
    private partial void LogAttached(int pid);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Port {Port} accepts connections, but no process visible here listens on it (share the process namespace with the function, or give --pid)")]
    private partial void LogNotFound(int port);

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }
}
