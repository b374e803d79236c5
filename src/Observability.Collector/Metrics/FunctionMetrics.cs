using Observability.Core.Model;
using Observability.Otlp.Semantics;
using Prometheus;

namespace Observability.Collector.Metrics;

/// <summary>
/// Function RED and cold-start metrics, derived from committed SERVER spans that carry faas.* attributes
/// and named after the OpenTelemetry FaaS metric conventions. Warm-up pings are counted apart and left
/// out of invocations, errors, durations and cold starts. Every span adds its adjusted count (what it stands
/// for under sampling, <see cref="SpanRow.AdjustedCount"/>), not 1, so the metrics estimate the real traffic
/// without bias at any sampling ratio.
/// </summary>
public sealed class FunctionMetrics
{
    // The buckets the FaaS metric conventions give for faas.invoke_duration.
    private static readonly double[] InvokeBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    /// <summary>The bucket boundaries of faas_invoke_duration_seconds, in seconds: latency SLO thresholds must be one of them.</summary>
    public static IReadOnlyList<double> InvokeBucketBoundaries => InvokeBuckets;

    private static readonly double[] InitBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    /// <summary>The bucket boundaries of faas_init_duration_seconds, in seconds: the cold-starts API's init histogram uses the same.</summary>
    public static IReadOnlyList<double> InitBucketBoundaries => InitBuckets;

    private readonly Counter _invocations;
    private readonly Counter _errors;
    private readonly Counter _coldStarts;
    private readonly Counter _warmUps;
    private readonly Histogram _invokeDuration;
    private readonly Histogram _initDuration;

    // Fractions of adjusted counts not yet observed, per histogram series (see Observe).
    private readonly Dictionary<Histogram.Child, double> _carry = [];

    public FunctionMetrics(CollectorRegistry registry)
    {
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        string[] labels = ["function", "version", "trigger"];
        _invocations = f.CreateCounter("faas_invocations_total", "Function invocations (faas.invocations), warm-up pings excluded.", labels);
        _errors = f.CreateCounter("faas_errors_total", "Function invocations that ended in error (faas.errors), warm-up pings excluded.", labels);
        _coldStarts = f.CreateCounter("faas_coldstarts_total", "Invocations that paid for a cold start (faas.coldstarts).", labels);
        _warmUps = f.CreateCounter("obs_warmup_invocations_total", "Warm-up pings (obs.warmup=true), counted apart from invocations.", labels);
        _invokeDuration = f.CreateHistogram("faas_invoke_duration_seconds", "Duration of function invocations (faas.invoke_duration).", new HistogramConfiguration { Buckets = InvokeBuckets, LabelNames = labels });
        _initDuration = f.CreateHistogram("faas_init_duration_seconds", "Duration of function initialisation in cold starts (faas.init_duration).", new HistogramConfiguration { Buckets = InitBuckets, LabelNames = ["function", "version"] });
    }

    public void Record(IEnumerable<SpanRow> committed)
    {
        foreach (var s in committed)
        {
            if (s.FunctionName is null)
            {
                continue;
            }

            var version = s.FunctionVersion ?? string.Empty;
            var count = s.AdjustedCount;
            if (s.ColdStartPhase == ObsConventions.InitPhase)
            {
                Observe(_initDuration.WithLabels(s.FunctionName, version), s.DurationNanos / 1e9, count);
            }

            if (s.Kind != SpanKinds.Server)
            {
                continue;
            }

            var trigger = s.FaasTrigger ?? string.Empty;
            if (s.WarmUp)
            {
                _warmUps.WithLabels(s.FunctionName, version, trigger).Inc(count);
                continue;
            }

            _invocations.WithLabels(s.FunctionName, version, trigger).Inc(count);
            Observe(_invokeDuration.WithLabels(s.FunctionName, version, trigger), s.DurationNanos / 1e9, count);
            if (s.IsError)
            {
                _errors.WithLabels(s.FunctionName, version, trigger).Inc(count);
            }

            if (s.FaasColdStart == true)
            {
                _coldStarts.WithLabels(s.FunctionName, version, trigger).Inc(count);
            }
        }
    }

    /// <summary>
    /// A histogram takes whole observation counts. Rounding each span's adjusted count would bias it (at a
    /// th of e666, 9.9994 would always count 10), so each series carries the fraction left over to its next
    /// span: its count stays within 1 of the sum of adjusted counts, and which span gets the extra unit depends
    /// on arrival order, not on its duration, so the buckets stay unbiased too.
    /// </summary>
    private void Observe(Histogram.Child series, double value, double count)
    {
        long whole;
        if (count == Math.Floor(count))
        {
            whole = (long)count; // the usual case (1, or a power-of-two ratio): no fraction to carry
        }
        else
        {
            // Several batch writers record at once; this is only in-memory arithmetic.
            lock (_carry)
            {
                var total = count + _carry.GetValueOrDefault(series);
                whole = (long)Math.Floor(total);
                _carry[series] = total - whole;
            }
        }

        if (whole > 0)
        {
            series.Observe(value, whole);
        }
    }
}
