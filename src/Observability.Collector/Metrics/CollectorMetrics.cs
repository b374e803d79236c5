using Prometheus;

namespace Observability.Collector.Metrics;

/// <summary>The collector's own health on /metrics. One instance per collector, on its own registry.</summary>
public sealed class CollectorMetrics
{
    public CollectorMetrics(CollectorRegistry registry)
    {
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        Received = f.CreateCounter("obs_collector_received_total", "Spans and log records received in well-formed requests.", "signal");
        Accepted = f.CreateCounter("obs_collector_accepted_total", "Spans and log records committed to the database.", "signal");
        Duplicates = f.CreateCounter("obs_collector_duplicates_total", "Spans and log records received again (client retries) and stored once.", "signal");
        Rejected = f.CreateCounter("obs_collector_rejected_total", "Spans and log records rejected as invalid (partial success or 400); clients must not retry them.", "signal", "reason");
        Dropped = f.CreateCounter("obs_collector_dropped_total", "Spans and log records refused with a retryable answer (429/503, gRPC UNAVAILABLE); the client keeps them and retries.", "signal", "reason");
        RequestsRejected = f.CreateCounter("obs_collector_requests_rejected_total", "Whole requests refused before their content was read.", "reason");
        DumpUploads = f.CreateCounter("obs_collector_dump_uploads_total", "Dump uploads (PUT /v1/dumps/{id}) by outcome: stored, or why not (exists, too_large, bad_id, unsupported_media_type, aborted, error); refused keys are in obs_collector_requests_rejected_total.", "outcome");
        DumpBytes = f.CreateCounter("obs_collector_dump_bytes_total", "Bytes of dumps stored.");
        QueueDepth = f.CreateGauge("obs_collector_queue_depth", "Spans and log records waiting to be written.");
        QueueCapacity = f.CreateGauge("obs_collector_queue_capacity", "Queue capacity in spans and log records.");
        BatchRows = f.CreateHistogram("obs_collector_batch_rows", "Rows per committed batch.", new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 4, 9) });
        CommitDuration = f.CreateHistogram("obs_collector_commit_duration_seconds", "Time to write and commit one batch.", new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2.5, 10), LabelNames = ["outcome"] });
    }

    public Counter Received { get; }
    public Counter Accepted { get; }
    public Counter Duplicates { get; }
    public Counter Rejected { get; }
    public Counter Dropped { get; }
    public Counter RequestsRejected { get; }
    public Counter DumpUploads { get; }
    public Counter DumpBytes { get; }
    public Gauge QueueDepth { get; }
    public Gauge QueueCapacity { get; }
    public Histogram BatchRows { get; }
    public Histogram CommitDuration { get; }
}

/// <summary>Label values used on the counters above.</summary>
public static class Signals
{
    public const string Spans = "spans";
    public const string Logs = "logs";
}
