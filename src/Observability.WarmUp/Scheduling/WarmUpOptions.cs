using System.ComponentModel.DataAnnotations;
using Observability.WarmUp.Policies;
using Observability.WarmUp.Targets;

namespace Observability.WarmUp.Scheduling;

/// <summary>
/// Scheduler settings, bound from the "WarmUp" configuration section (WarmUp__Port, --WarmUp:Port=...), with the
/// suite's environment variables (OBS_DATABASE_URL, OBS_READ_KEY, OBS_METRICS_KEY, OBS_WARMUP_TOKEN) read too.
/// Every default is documented here and in README.md.
/// </summary>
public sealed class WarmUpOptions : IValidatableObject
{
    public const string Section = "WarmUp";

    /// <summary>The suite's PostgreSQL, as an Npgsql connection string or a postgres:// URL. Required.</summary>
    public string? DatabaseUrl { get; set; }

    /// <summary>The sidecars' warm-up token (their --warmup-token): sent as the warm-up header's value. Required.</summary>
    public string? WarmUpToken { get; set; }

    /// <summary>Header that carries the token. Default X-Obs-Warmup, as the sidecar's default.</summary>
    public string WarmUpHeader { get; set; } = "X-Obs-Warmup";

    /// <summary>Key for the Hangfire dashboard (and /metrics when no metrics key is set). Required.</summary>
    public string? ReadKey { get; set; }

    /// <summary>Key that may read /metrics only. Default none: /metrics takes the read key.</summary>
    public string? MetricsKey { get; set; }

    /// <summary>Address the port binds to. Default 127.0.0.1.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>Port of /hangfire, /metrics and /healthz. Default 8090; 0 picks a free one.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8090;

    /// <summary>YAML file of targets (see docs/warm-up.md, "Scheduler"). Default none: discovered targets only.</summary>
    public string? TargetsFile { get; set; }

    /// <summary>Warm discovered functions too (those whose sidecar advertises obs.warmup.url). Default true.</summary>
    public bool Discover { get; set; } = true;

    /// <summary>A function is discovered when it sent a span with obs.warmup.url this recently. Default 24 hours.</summary>
    public TimeSpan DiscoveryWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Policy of targets that name none: none, fixed, idle or histogram. Default idle.</summary>
    public string DefaultPolicy { get; set; } = "idle";

    /// <summary>The platform's keep-alive (how long an idle instance stays warm), unless a target says otherwise. Default 10 minutes.</summary>
    public TimeSpan KeepAlive { get; set; } = PolicySettings.Default.KeepAlive;

    /// <summary>How long before the keep-alive runs out a ping is sent, unless a target says otherwise. Default 30 s.</summary>
    public TimeSpan Margin { get; set; } = PolicySettings.Default.Margin;

    /// <summary>The fixed policy's interval, unless a target says otherwise. Default 5 minutes.</summary>
    public TimeSpan FixedInterval { get; set; } = PolicySettings.Default.FixedInterval;

    /// <summary>Concurrent requests per ping (instances kept warm), unless a target says otherwise. Default 1.</summary>
    [Range(1, 1000)]
    public int Instances { get; set; } = 1;

    /// <summary>Pings per function per rolling hour at most, unless a target says otherwise. Default 60.</summary>
    [Range(1, 100_000)]
    public int BudgetPerHour { get; set; } = 60;

    /// <summary>How far back the planner reads a function's invocations to learn its idle times. Default 7 days.</summary>
    public TimeSpan HistoryWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How far back pings that found the function cold and cold invocations count as closed-loop signals. Default 1 hour.</summary>
    public TimeSpan ColdSignalWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A ping is scheduled when it falls before the next planner run plus this slack (the planner runs every
    /// minute). Default 30 s.
    /// </summary>
    public TimeSpan PlanningSlack { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A planned ping that has not succeeded after this long no longer holds back the next one (its job failed for
    /// good, or the scheduler died between planning and scheduling it). Default 10 minutes.
    /// </summary>
    public TimeSpan PendingExpiry { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long one ping request may take. Default 30 s (a cold start can be slow).</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Hangfire workers in this process. Default 4. 0: no Hangfire server here (dashboard only; others run the jobs).</summary>
    [Range(0, 100)]
    public int WorkerCount { get; set; } = 4;

    /// <summary>How often the server looks for due delayed jobs and retries. Default 1 s, so pings leave on time.</summary>
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often workers look for enqueued jobs. Default 1 s.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A job whose worker died (process killed, host lost) is run again by another worker after this long: the
    /// sliding invisibility timeout of Hangfire.PostgreSql. Default 5 minutes.
    /// </summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Run the planner as a Hangfire recurring job every minute, once at start, and after each answered ping (which
    /// plans the next). Default true; tests turn it off and plan by hand.
    /// </summary>
    public bool RecurringPlanner { get; set; } = true;

    public PolicySettings PolicyDefaults => new(KeepAlive, Margin, FixedInterval);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(DatabaseUrl))
        {
            yield return new ValidationResult("WarmUp:DatabaseUrl (or OBS_DATABASE_URL) is required: the suite's PostgreSQL, where the collector writes.", [nameof(DatabaseUrl)]);
        }

        if (string.IsNullOrWhiteSpace(WarmUpToken))
        {
            yield return new ValidationResult("WarmUp:WarmUpToken (or OBS_WARMUP_TOKEN) is required: the token the sidecars were started with (--warmup-token).", [nameof(WarmUpToken)]);
        }

        if (string.IsNullOrWhiteSpace(ReadKey))
        {
            yield return new ValidationResult("WarmUp:ReadKey (or OBS_READ_KEY) is required: it guards the Hangfire dashboard.", [nameof(ReadKey)]);
        }

        if (!WarmUpPolicies.Names.Contains(DefaultPolicy))
        {
            yield return new ValidationResult($"WarmUp:DefaultPolicy: \"{DefaultPolicy}\" is not a policy; use one of {string.Join(", ", WarmUpPolicies.Names)}.", [nameof(DefaultPolicy)]);
        }

        foreach (var (name, value) in new[] { (nameof(KeepAlive), KeepAlive), (nameof(FixedInterval), FixedInterval), (nameof(HistoryWindow), HistoryWindow), (nameof(PingTimeout), PingTimeout), (nameof(InvisibilityTimeout), InvisibilityTimeout), (nameof(SchedulePollingInterval), SchedulePollingInterval), (nameof(QueuePollInterval), QueuePollInterval) })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return new ValidationResult($"WarmUp:{name} must be positive.", [name]);
            }
        }

        if (Margin < TimeSpan.Zero || Margin >= KeepAlive)
        {
            yield return new ValidationResult($"WarmUp:Margin ({Margin}) must be at least 0 and shorter than WarmUp:KeepAlive ({KeepAlive}).", [nameof(Margin)]);
        }

        if (!string.IsNullOrEmpty(TargetsFile))
        {
            var problem = TargetsFileReader.Problem(TargetsFile);
            if (problem is not null)
            {
                yield return new ValidationResult($"WarmUp:TargetsFile ({TargetsFile}): {problem}", [nameof(TargetsFile)]);
            }
        }
    }
}
