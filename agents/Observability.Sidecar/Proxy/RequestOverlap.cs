using Observability.Sidecar.Snapshots;

namespace Observability.Sidecar.Proxy;

/// <summary>
/// How many other requests overlapped each request: the runtime reports every exception of the process, so a failure
/// snapshot must know whether an exception without the request's trace id can only be its own. Two atomic increments,
/// a decrement and two clock reads a request; no lock, no allocation.
/// </summary>
internal sealed class RequestOverlap(TimeProvider time)
{
    private readonly TimeProvider _time = time;
    private long _started;
    private int _inFlight;
    private long _lastEnded = long.MinValue;

    public Scope Begin()
    {
        var started = Interlocked.Increment(ref _started);
        var others = Interlocked.Increment(ref _inFlight) - 1;
        // One that ended just before this one began may have thrown within this one's exception window.
        if (others == 0 && Volatile.Read(ref _lastEnded) is var ended && ended != long.MinValue
            && _time.GetElapsedTime(ended) < SnapshotService.ExceptionLead)
        {
            others = 1;
        }

        return new Scope(this, started, others);
    }

    /// <summary>One request, from <see cref="Begin"/> until disposed.</summary>
    public readonly struct Scope(RequestOverlap owner, long started, int alreadyInFlight) : IDisposable
    {
        /// <summary>The requests in flight when this one began, plus those begun since.</summary>
        public int Others => alreadyInFlight + (int)(Volatile.Read(ref owner._started) - started);

        public void Dispose()
        {
            Interlocked.Decrement(ref owner._inFlight);
            Volatile.Write(ref owner._lastEnded, owner._time.GetTimestamp());
        }
    }
}
