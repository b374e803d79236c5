using System.Diagnostics;

namespace Observability.Sidecar.Supervision;

/// <summary>
/// One process lifetime of the function: when it started, when it began accepting connections, and
/// whether its first request (the one that pays for the cold start) has been claimed yet.
/// </summary>
public sealed class FunctionInstance
{
    private readonly TaskCompletionSource<DateTime> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _coldClaimed;

    public FunctionInstance(Process? process, DateTime processStart, DateTime? startRequested)
    {
        Process = process;
        ProcessStart = processStart;
        StartRequested = startRequested;
    }

    /// <summary>The child process in supervise mode; null when attached to a process we did not start.</summary>
    public Process? Process { get; }

    public DateTime ProcessStart { get; }

    /// <summary>When a request asked for a stopped function to start (scale from zero), if one did.</summary>
    public DateTime? StartRequested { get; }

    /// <summary>Completes with the time the function's port first accepted a connection.</summary>
    public Task<DateTime> Listening => _listening.Task;

    public bool IsListening => _listening.Task.IsCompletedSuccessfully;

    public void MarkListening(DateTime at) => _listening.TrySetResult(at);

    public void MarkFailed(Exception reason) => _listening.TrySetException(reason);

    /// <summary>True exactly once per instance: for the request that pays for the cold start.</summary>
    public bool TryClaimColdStart() => Interlocked.Exchange(ref _coldClaimed, 1) == 0;
}
