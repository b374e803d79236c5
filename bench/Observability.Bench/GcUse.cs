namespace Observability.Bench;

/// <summary>This process's allocations and garbage collections, as a running total or a difference.</summary>
internal readonly record struct GcUse(long AllocatedBytes, TimeSpan Pause, int Gen2Collections)
{
    public static GcUse Now() => new(GC.GetTotalAllocatedBytes(), GC.GetTotalPauseDuration(), GC.CollectionCount(2));

    public static GcUse operator -(GcUse after, GcUse before) =>
        new(after.AllocatedBytes - before.AllocatedBytes, after.Pause - before.Pause, after.Gen2Collections - before.Gen2Collections);
}
