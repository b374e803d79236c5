using Prometheus;

namespace Observability.Sidecar.Telemetry;

/// <summary>The sidecar's own metrics on its admin port.</summary>
public sealed class SidecarMetrics
{
    public SidecarMetrics(CollectorRegistry registry)
    {
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
        SnapshotSpoolFiles = f.CreateGauge("obs_sidecar_snapshot_spool_files", "Failure snapshots on disk waiting for the collector.");
    }

    public Counter Requests { get; }
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
    public Gauge SnapshotSpoolFiles { get; }
}
