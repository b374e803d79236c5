using System.Globalization;
using Prometheus;

namespace Observability.Sidecar.Telemetry;

/// <summary>The sidecar's own metrics on its admin port.</summary>
public sealed class SidecarMetrics
{
    private readonly Counter.Child?[] _byStatus = new Counter.Child?[500];

    public SidecarMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var f = Metrics.WithCustomRegistry(registry);
        Requests = f.CreateCounter("obs_sidecar_requests_total", "Requests proxied to the function, by response status code.", "code");
        UpstreamDuration = f.CreateHistogram("obs_sidecar_upstream_duration_seconds", "Time from forwarding a request to the function's response.", new HistogramConfiguration { Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        ColdStarts = f.CreateCounter("obs_sidecar_coldstarts_total", "Cold starts: first invocations of a new function process.");
        InitDuration = f.CreateHistogram("obs_sidecar_init_duration_seconds", "Process start to the function's port accepting connections.", new HistogramConfiguration { Buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        FunctionUp = f.CreateGauge("obs_sidecar_function_up", "1 while the function process runs.");
        FunctionStarts = f.CreateCounter("obs_sidecar_function_starts_total", "Function processes started.");
        FunctionCrashes = f.CreateCounter("obs_sidecar_function_crashes_total", "Function processes that exited on their own.");
        IdleStops = f.CreateCounter("obs_sidecar_idle_stops_total", "Function processes stopped after the idle timeout (scale to zero).");
        Snapshots = f.CreateCounter("obs_sidecar_snapshots_total", "Failure snapshots taken and spooled for export, by trigger.", "trigger");
        SnapshotsDropped = f.CreateCounter("obs_sidecar_snapshots_dropped_total", "Failure snapshots not taken or not delivered, by reason (rate_limited, queue_full, spool_full, refused, error).", "reason");
        SnapshotsExported = f.CreateCounter("obs_sidecar_snapshots_exported_total", "Failure snapshots the collector accepted.");
        DumpUploads = f.CreateCounter("obs_sidecar_dump_uploads_total", "Dumps this sidecar wrote and sent to the collector, by outcome (uploaded, already_stored, too_large, refused, gave_up, queue_full, missing); any but uploaded and already_stored leaves the dump on disk.", "outcome");
        SpoolBytes = f.CreateGauge("obs_sidecar_spool_bytes", "Bytes on disk waiting for the collector, by signal (traces, snapshots).", "signal");
        ExportQueue = f.CreateGauge("obs_sidecar_export_queue_spans", "Spans in memory waiting for the exporter (queue of 8192).");
        SpansExported = f.CreateCounter("obs_sidecar_spans_exported_total", "Spans handed to the OTLP exporter (sent, or spooled to disk when the collector was away).");
        SpansDropped = f.CreateCounter("obs_sidecar_spans_dropped_total", "Spans dropped because the export queue was full.");
        SpoolReplayed = f.CreateCounter("obs_sidecar_spool_replayed_batches_total", "Span batches sent from the disk spool (left by a collector outage, in this run or an earlier one), by result (delivered, refused).", "result");
        SpansSampledOut = f.CreateCounter("obs_sidecar_spans_sampled_out_total", "Spans left out by the sampling ratio (errors and cold starts are always kept).");
    }

    public Counter Requests { get; }

    /// <summary>The requests counter of one status code, looked up once per code rather than per request.</summary>
    public Counter.Child RequestsWithStatus(int status)
    {
        var index = status - 100;
        if ((uint)index >= (uint)_byStatus.Length)
        {
            return Requests.WithLabels(status.ToString(CultureInfo.InvariantCulture));
        }

        return _byStatus[index] ??= Requests.WithLabels(status.ToString(CultureInfo.InvariantCulture));
    }
    public Histogram UpstreamDuration { get; }
    public Counter ColdStarts { get; }
    public Histogram InitDuration { get; }
    public Gauge FunctionUp { get; }
    public Counter FunctionStarts { get; }
    public Counter FunctionCrashes { get; }
    public Counter IdleStops { get; }
    public Counter Snapshots { get; }
    public Counter SnapshotsDropped { get; }
    public Counter SnapshotsExported { get; }
    public Counter DumpUploads { get; }
    public Gauge SpoolBytes { get; }
    public Gauge ExportQueue { get; }
    public Counter SpansExported { get; }
    public Counter SpansDropped { get; }
    public Counter SpansSampledOut { get; }
    public Counter SpoolReplayed { get; }

    public CollectorRegistry Registry { get; }
}
