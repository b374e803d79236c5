using Microsoft.Diagnostics.Tracing;

namespace Observability.Sidecar.Diagnostics.Pipelines;

/// <summary>The GC heap size and count as of the last GC the light session saw.</summary>
internal sealed class GcPipeline
{
    private long _heapBytes = -1;
    private int _count = -1;

    public long? HeapBytes => Interlocked.Read(ref _heapBytes) is >= 0 and var bytes ? bytes : null;

    public int? Count => Volatile.Read(ref _count) is >= 0 and var count ? count : null;

    public void Subscribe(EventPipeEventSource source)
    {
        source.Clr.GCHeapStats += e => Interlocked.Exchange(ref _heapBytes, e.TotalHeapSize);
        source.Clr.GCStop += e => Volatile.Write(ref _count, e.Count);
    }
}
