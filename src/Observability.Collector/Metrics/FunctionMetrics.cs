using Observability.Core.Model;
using Observability.Core.Semantics;
using Prometheus;

namespace Observability.Collector.Metrics;

/// <summary>
/// Function RED and cold-start metrics, derived from committed SERVER spans that carry faas.* attributes
/// and named after the OpenTelemetry FaaS metric conventions. Warm-up pings are counted apart and left
/// out of invocations, errors, durations and cold starts.
/// </summary>
public sealed class FunctionMetrics
{
    // The buckets the FaaS metric conventions give for faas.invoke_duration.
    private static readonly double[] InvokeBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
    private static readonly double[] InitBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Counter _invocations;
    private readonly Counter _errors;
    private readonly Counter _coldStarts;
    private readonly Counter _warmUps;
    private readonly Histogram _invokeDuration;
    private readonly Histogram _initDuration;

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
            if (s.ColdStartPhase == ObsConventions.InitPhase)
            {
                _initDuration.WithLabels(s.FunctionName, version).Observe(s.DurationNanos / 1e9);
            }

            if (s.Kind != SpanKinds.Server)
            {
                continue;
            }

            var trigger = s.FaasTrigger ?? string.Empty;
            if (s.WarmUp)
            {
                _warmUps.WithLabels(s.FunctionName, version, trigger).Inc();
                continue;
            }

            _invocations.WithLabels(s.FunctionName, version, trigger).Inc();
            _invokeDuration.WithLabels(s.FunctionName, version, trigger).Observe(s.DurationNanos / 1e9);
            if (s.IsError)
            {
                _errors.WithLabels(s.FunctionName, version, trigger).Inc();
            }

            if (s.FaasColdStart == true)
            {
                _coldStarts.WithLabels(s.FunctionName, version, trigger).Inc();
            }
        }
    }
}
