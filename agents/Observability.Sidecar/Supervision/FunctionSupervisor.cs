using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Observability.Sidecar.Configuration;
using Observability.Sidecar.Telemetry;

namespace Observability.Sidecar.Supervision;

/// <summary>
/// The function as the rest of the sidecar sees it, whichever way its processes come: launched by the sidecar
/// (<see cref="SupervisedFunction"/>, when a command is given) or found already running
/// (<see cref="AttachedFunction"/>). Raises one event when a process starts or is found, one when it ends.
/// </summary>
public sealed class FunctionSupervisor : IAsyncDisposable
{
    private readonly IFunctionSource _source;
    private int _stopping;

    public FunctionSupervisor(IOptions<SidecarOptions> options, LogTail logs, SidecarMetrics metrics, TimeProvider time, ILogger<FunctionSupervisor> logger, ILoggerFactory loggers)
    {
        Logs = logs;
        var context = new SupervisionContext(
            options.Value, metrics, time, logs, logger, loggers, new ListeningProbe(options.Value, time),
            instance => Started?.Invoke(instance),
            (instance, exitCode) => Exited?.Invoke(instance, exitCode));
        _source = options.Value.Supervises ? new SupervisedFunction(context) : new AttachedFunction(context);
    }

    /// <summary>Raised when a function process is started (supervise mode) or found (attach mode).</summary>
    public event Action<FunctionInstance>? Started;

    /// <summary>Raised when the function's process ends on its own (a crash, or in attach mode any exit), with its exit code if known.</summary>
    public event Action<FunctionInstance, int?>? Exited;

    public LogTail Logs { get; }

    /// <summary>The running instance, if any.</summary>
    public FunctionInstance? Current => _source.Current;

    /// <summary>
    /// Stopped after the idle timeout, to be started by the next request: the sidecar can serve (it waits for
    /// the start), so it stays ready; a probe failing now would take away the traffic that wakes the function.
    /// </summary>
    public bool ScaledToZero => _source.ScaledToZero;

    /// <summary>Starts the function (supervise mode) or starts looking for it (attach mode), without waiting for it.</summary>
    public Task StartAsync(CancellationToken ct) => _source.StartAsync(ct);

    /// <summary>
    /// The instance to send a request to once it accepts connections: starts a stopped function (scale from
    /// zero), waits for a starting one. Throws <see cref="TimeoutException"/> after ReadyTimeout.
    /// </summary>
    public Task<FunctionInstance> ReadyInstanceAsync(DateTime requestReceived, CancellationToken ct) => _source.ReadyInstanceAsync(requestReceived, ct);

    /// <summary>Marks a request in flight, so an idle stop never cuts one off.</summary>
    public IDisposable BeginRequest() => _source.BeginRequest();

    /// <summary>Stops the function (supervise mode) or stops following it. Safe to call more than once (the host and the container both do).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 0)
        {
            await _source.DisposeAsync();
        }
    }
}
