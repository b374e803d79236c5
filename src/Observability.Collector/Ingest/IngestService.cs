using Microsoft.Extensions.Options;
using Observability.Collector.Configuration;
using Observability.Collector.Metrics;
using Observability.Core.Model;
using Observability.Core.Otlp;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Collector.Ingest;

/// <summary>How a receiver must answer an export request.</summary>
public enum IngestStatus
{
    /// <summary>Committed (possibly with some items rejected: partial success).</summary>
    Accepted,

    /// <summary>The queue is full: retryable (HTTP 429, gRPC UNAVAILABLE with RetryInfo).</summary>
    QueueFull,

    /// <summary>The database is unavailable: retryable (HTTP 503, gRPC UNAVAILABLE with RetryInfo).</summary>
    Unavailable,

    /// <summary>The data was refused by the database: final (HTTP 400, gRPC INVALID_ARGUMENT).</summary>
    Invalid,
}

public readonly record struct IngestReply(IngestStatus Status, long Rejected, string? Message);

/// <summary>
/// What both receivers do with a decoded export: validate and map it, queue it, and wait until the
/// writer has committed it, so that a success answer always means stored.
/// </summary>
public sealed class IngestService(IngestQueue queue, CollectorMetrics metrics, TimeProvider time, IOptions<CollectorOptions> options)
{
    private readonly IngestRules _rules = new()
    {
        MaxAge = TimeSpan.FromDays(options.Value.RetentionDays),
        MaxFutureSkew = options.Value.MaxFutureSkew,
    };

    public Task<IngestReply> IngestAsync(ExportTraceServiceRequest request)
    {
        var mapped = OtlpTraceMapper.Map(request, time.GetUtcNow().UtcDateTime, _rules);
        return EnqueueAsync(Signals.Spans, mapped.Rows, [], mapped.Rejected, mapped.ErrorMessage);
    }

    public Task<IngestReply> IngestAsync(ExportLogsServiceRequest request)
    {
        var mapped = OtlpLogMapper.Map(request, time.GetUtcNow().UtcDateTime, _rules);
        return EnqueueAsync(Signals.Logs, [], mapped.Rows, mapped.Rejected, mapped.ErrorMessage);
    }

    private async Task<IngestReply> EnqueueAsync(string signal, List<SpanRow> spans, List<LogRow> logs, int rejected, string? message)
    {
        var rows = spans.Count + logs.Count;
        metrics.Received.WithLabels(signal).Inc(rows + rejected);
        if (rejected > 0)
        {
            metrics.Rejected.WithLabels(signal, "invalid").Inc(rejected);
        }

        if (rows == 0)
        {
            return new IngestReply(IngestStatus.Accepted, rejected, message);
        }

        var work = new IngestWork(spans, logs);
        if (!queue.TryEnqueue(work))
        {
            metrics.Dropped.WithLabels(signal, "queue_full").Inc(rows);
            return new IngestReply(IngestStatus.QueueFull, 0, "the collector's ingest queue is full; retry later");
        }

        return await work.Done switch
        {
            WriteOutcome.Committed => new IngestReply(IngestStatus.Accepted, rejected, message),
            WriteOutcome.Invalid => new IngestReply(IngestStatus.Invalid, rows + rejected, "the database refused this request's data as invalid"),
            _ => new IngestReply(IngestStatus.Unavailable, 0, "the collector's database is unavailable; retry later"),
        };
    }
}
