using System.Diagnostics;
using Observability.Sidecar.Diagnostics;

namespace Observability.Sidecar.Supervision;

/// <summary>
/// One process lifetime of the function: when it started, when it began accepting connections, and
/// whether its first request (the one that pays for the cold start) has been claimed yet.
/// </summary>
public sealed class FunctionInstance
{
    private readonly TaskCompletionSource<DateTime> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int?> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _coldClaimed;
    private int _crashReported;

    public FunctionInstance(Process process, DateTime processStart, DateTime? startRequested, IReadOnlyDictionary<string, string> environment)
    {
        Process = process;
        ProcessStart = processStart;
        StartRequested = startRequested;
        Environment = environment;
    }

    /// <summary>The function's process: our child in supervise mode, the one found in attach mode.</summary>
    public Process Process { get; }

    /// <summary>The function's environment (for failure snapshots; redacted before it leaves).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>
    /// The .NET runtime monitor, once attached through the diagnostics port; null when the function is not .NET,
    /// diagnostics are off, or attaching failed.
    /// </summary>
    public Task<RuntimeMonitor?> Runtime { get; set; } = Task.FromResult<RuntimeMonitor?>(null);

    /// <summary>The reader of the function's stdout and stderr (supervise mode only).</summary>
    internal FunctionOutput? Output { get; set; }

    /// <summary>Completes with the exit code when the process ends.</summary>
    public Task<int?> Exited => _exited.Task;

    public DateTime ProcessStart { get; }

    /// <summary>When a request asked for a stopped function to start (scale from zero), if one did.</summary>
    public DateTime? StartRequested { get; }

    /// <summary>Completes with the time the function's port first accepted a connection.</summary>
    public Task<DateTime> Listening => _listening.Task;

    public bool IsListening => _listening.Task.IsCompletedSuccessfully;

    /// <summary>How far <see cref="Listening"/> may be off either way (see <see cref="ListeningProbe"/>); zero when not measured.</summary>
    public TimeSpan ListeningUncertainty { get; private set; }

    /// <summary>How far <see cref="ProcessStart"/> may be off either way (see <see cref="LaunchClock"/>); zero when not measured.</summary>
    public TimeSpan ProcessStartUncertainty { get; init; }

    public void MarkListening(Moment at)
    {
        ListeningUncertainty = at.Uncertainty;
        _listening.TrySetResult(at.At);
    }

    public void MarkFailed(Exception reason) => _listening.TrySetException(reason);

    public void MarkExited(int? exitCode) => _exited.TrySetResult(exitCode);

    /// <summary>Ends the runtime monitor's sessions; its exceptions and GC figures stay readable for a crash snapshot.</summary>
    internal async Task StopRuntimeMonitorAsync()
    {
        if (await Runtime is { } monitor)
        {
            await monitor.DisposeAsync();
        }
    }

    /// <summary>When the last failure snapshot of this process was asked for (the request time it concerns).</summary>
    public DateTime? LastFailureReported { get; private set; }

    public void MarkFailureReported(DateTime at)
    {
        if (LastFailureReported is not { } last || at > last)
        {
            LastFailureReported = at;
        }
    }

    /// <summary>True exactly once: whoever reports the crash first (the request it cut off, or the supervisor).</summary>
    public bool TryClaimCrashReport() => Interlocked.Exchange(ref _crashReported, 1) == 0;

    /// <summary>False for a process found already serving in attach mode: its cold start happened before we could see it.</summary>
    public bool CanBeCold { get; init; } = true;

    /// <summary>True exactly once per instance: for the request that pays for the cold start.</summary>
    public bool TryClaimColdStart() => CanBeCold && Interlocked.Exchange(ref _coldClaimed, 1) == 0;
}
