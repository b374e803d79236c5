using Prometheus;

namespace Observability.WarmUp.Scheduling;

/// <summary>The scheduler's metrics, names and labels as CONTRACTS.md §2 fixes them (dashboards and alerts use them).</summary>
public sealed class WarmUpMetrics
{
    public WarmUpMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var factory = Metrics.WithCustomRegistry(registry);
        Pings = factory.CreateCounter("obs_warmup_pings_total", "Warm-up pings sent, by what they found: warm, cold, or failed (each failed attempt counts).", "function", "outcome");
        Skipped = factory.CreateCounter("obs_warmup_pings_skipped_total", "Pings a policy asked for and the scheduler did not send: budget (the hourly budget was spent), inactive_hours.", "function", "reason");
        PingDuration = factory.CreateHistogram("obs_warmup_ping_duration_seconds", "Time for a ping's requests to answer (the slowest of its concurrent requests).", new HistogramConfiguration
        {
            LabelNames = ["function"],
            Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        });
        PlannerDuration = factory.CreateHistogram("obs_warmup_planner_duration_seconds", "Time one planner run took.", new HistogramConfiguration
        {
            Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        });
        PlannerRuns = factory.CreateCounter("obs_warmup_planner_runs_total", "Planner runs (one a minute across all schedulers on a database).");
        BudgetPerHour = factory.CreateGauge("obs_warmup_budget_per_hour", "Pings per rolling hour a target may spend.", "function");
        PingsLastHour = factory.CreateGauge("obs_warmup_pings_last_hour", "Pings sent in the last hour, as of the last planner run.", "function");
        Targets = factory.CreateGauge("obs_warmup_targets", "Functions the scheduler keeps warm.");
    }

    public CollectorRegistry Registry { get; }

    public Counter Pings { get; }

    public Counter Skipped { get; }

    public Histogram PingDuration { get; }

    public Histogram PlannerDuration { get; }

    public Counter PlannerRuns { get; }

    public Gauge BudgetPerHour { get; }

    public Gauge PingsLastHour { get; }

    public Gauge Targets { get; }
}
