using System.Threading.Channels;
using Observability.Collector.Metrics;
using Observability.Core.Model;

namespace Observability.Collector.Ingest;

/// <summary>What a batch write did with one request's rows.</summary>
public enum WriteOutcome
{
    /// <summary>Committed: the client may be told its data is stored.</summary>
    Committed,

    /// <summary>The database could not be reached or failed: retryable (503 / UNAVAILABLE).</summary>
    Unavailable,

    /// <summary>The database refused this request's data as invalid: final (400 / INVALID_ARGUMENT).</summary>
    Invalid,
}

/// <summary>One request's rows on their way to the database, and the answer its request waits for.</summary>
public sealed class IngestWork(IReadOnlyList<SpanRow> spans, IReadOnlyList<LogRow> logs)
{
    private readonly TaskCompletionSource<WriteOutcome> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<SpanRow> Spans { get; } = spans;

    public IReadOnlyList<LogRow> Logs { get; } = logs;

    public int Count => Spans.Count + Logs.Count;

    public Task<WriteOutcome> Done => _done.Task;

    public void Complete(WriteOutcome outcome) => _done.TrySetResult(outcome);
}

/// <summary>
/// The bounded queue between receivers and writers, bounded in rows rather than requests so that
/// memory stays bounded whatever the request sizes. A full queue refuses at once; it never blocks a receiver.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue.")]
public sealed class IngestQueue
{
    private readonly Channel<IngestWork> _channel = Channel.CreateUnbounded<IngestWork>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly CollectorMetrics _metrics;
    private readonly long _capacity;
    private long _depth;

    public IngestQueue(int capacity, CollectorMetrics metrics)
    {
        _capacity = capacity;
        _metrics = metrics;
        metrics.QueueCapacity.Set(capacity);
    }

    public ChannelReader<IngestWork> Reader => _channel.Reader;

    public long Depth => Interlocked.Read(ref _depth);

    /// <summary>False when the queue is full or closed; the caller answers with a retryable refusal.</summary>
    public bool TryEnqueue(IngestWork work)
    {
        var depth = Interlocked.Add(ref _depth, work.Count);
        // A request larger than the whole capacity is still taken when the queue is empty, or it could never be.
        if ((depth > _capacity && depth != work.Count) || !_channel.Writer.TryWrite(work))
        {
            Interlocked.Add(ref _depth, -work.Count);
            return false;
        }

        _metrics.QueueDepth.Set(depth);
        return true;
    }

    public void Dequeued(int count) => _metrics.QueueDepth.Set(Interlocked.Add(ref _depth, -count));

    public void Close() => _channel.Writer.TryComplete();
}
