using System.Collections.Concurrent;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Observability.WarmUp.Policies;
using Observability.WarmUp.Storage;
using Observability.WarmUp.Targets;

namespace Observability.WarmUp.Scheduling;

/// <summary>
/// The minutely recurring job: per target, asks its policy when to ping next from the function's history, and when
/// that falls before the next run (plus a slack) schedules a delayed Hangfire ping job for it. Never double-pings:
/// runs hold a PostgreSQL advisory lock (one planner at a time across all schedulers on the database), a function
/// with a ping still waiting or retrying gets no second one, and each ping owns a unique (function, second) slot in
/// warmup.pings, so a re-run of the same plan finds its slot taken.
/// </summary>
internal sealed partial class WarmUpPlanner(
    NpgsqlDataSource dataSource,
    IBackgroundJobClient jobs,
    TargetCatalog catalog,
    ActivityReader activities,
    PingLedger ledger,
    WarmUpMetrics metrics,
    IOptions<WarmUpOptions> options,
    TimeProvider time,
    ILogger<WarmUpPlanner> logger)
{
    /// <summary>The recurring job's id in Hangfire (and its dashboard).</summary>
    public const string RecurringJobId = "warmup-planner";

    /// <summary>How often the recurring job runs (Cron.Minutely).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    // Skipped slots already counted: a policy asks for the same slot run after run until it passes.
    private readonly ConcurrentDictionary<(string Function, DateTimeOffset Slot), DateTimeOffset> _skipped = new();
    private HashSet<string> _reported = new(StringComparer.Ordinal);

    /// <summary>The recurring job's entry point. Not retried: the next minute plans again.</summary>
    [AutomaticRetry(Attempts = 0, LogEvents = false)]
    public async Task RunAsync(CancellationToken ct)
    {
        _ = await PlanAsync(ct);
    }

    /// <summary>One planner run: the ids of the pings it planned.</summary>
    internal async Task<IReadOnlyList<long>> PlanAsync(CancellationToken ct)
    {
        var started = time.GetTimestamp();
        await using var held = await PlannerLock.TryAcquireAsync(dataSource, LockTimeout, ct);
        if (held is null)
        {
            LogBusy(logger);
            return [];
        }

        var planned = await PlanLockedAsync(ct);
        metrics.PlannerRuns.Inc();
        metrics.PlannerDuration.Observe(time.GetElapsedTime(started).TotalSeconds);
        return planned;
    }

    private async Task<IReadOnlyList<long>> PlanLockedAsync(CancellationToken ct)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var collectorTables = await ledger.CollectorTablesExistAsync(ct);
        if (!collectorTables)
        {
            LogNoCollectorTables(logger);
        }

        IReadOnlyList<WarmUpTarget> targets;
        try
        {
            targets = await catalog.LoadAsync(now, collectorTables, ct);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            // The file was valid at start (validated then) and broke since: keep the pings already planned.
            LogTargetsFile(logger, e, o.TargetsFile);
            return [];
        }

        var horizon = now + Interval + o.PlanningSlack;
        var planned = new List<long>();
        foreach (var target in targets)
        {
            try
            {
                if (await PlanTargetAsync(target, now, horizon, collectorTables, ct) is { } id)
                {
                    planned.Add(id);
                }
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or ArgumentException or InvalidOperationException)
            {
                LogTargetFailed(logger, e, target.Function);
            }
        }

        await ReportAsync(targets, now, ct);
        foreach (var old in _skipped.Where(s => s.Value < now - TimeSpan.FromHours(2)).Select(s => s.Key).ToList())
        {
            _skipped.TryRemove(old, out _);
        }

        LogRan(logger, targets.Count, planned.Count);
        return planned;
    }

    private async Task<long?> PlanTargetAsync(WarmUpTarget target, DateTimeOffset now, DateTimeOffset horizon, bool collectorTables, CancellationToken ct)
    {
        var o = options.Value;
        var activity = collectorTables
            ? await activities.ReadAsync(target.Function, now, o.HistoryWindow, o.ColdSignalWindow, target.Settings.KeepAlive, ct)
            // Without the collector's spans the scheduler still knows its own pings: a run after an answered ping
            // must not find the function overdue and ping again.
            : new FunctionActivity(target.Function, null, await ledger.LastAnsweredAsync(target.Function, now, ct), new IdleTimeHistogram());
        var next = WarmUpPolicies.Create(target.Policy, target.Settings).NextPing(activity, now);
        if (next is not { } at || at > horizon || await ledger.HasPendingAsync(target.Function, now, o.PendingExpiry, ct))
        {
            return null;
        }

        var slot = WholeSecond(at < now ? now : at);
        if (target.ActiveHours is { } active && !active.IsActive(slot))
        {
            Skip(target, slot, now, "inactive_hours");
            return null;
        }

        var budget = new PingBudget(target.BudgetPerHour);
        foreach (var spent in await ledger.PlannedInHourBeforeAsync(target.Function, slot, ct))
        {
            budget.TrySpend(spent);
        }

        if (!budget.TrySpend(slot))
        {
            Skip(target, slot, now, "budget");
            return null;
        }

        if (await ledger.TryPlanAsync(target, slot, ct) is not { } id)
        {
            return null; // the slot is taken: planned already
        }

        var job = jobs.Schedule<PingJob>(ping => ping.RunAsync(id, CancellationToken.None), slot);
        LogPlanned(logger, target.Function, slot, target.Policy, id, job);
        return id;
    }

    private void Skip(WarmUpTarget target, DateTimeOffset slot, DateTimeOffset now, string reason)
    {
        if (_skipped.TryAdd((target.Function, slot), now))
        {
            metrics.Skipped.WithLabels(target.Function, reason).Inc();
            LogSkipped(logger, target.Function, slot, reason);
        }
    }

    private async Task ReportAsync(IReadOnlyList<WarmUpTarget> targets, DateTimeOffset now, CancellationToken ct)
    {
        var sent = await ledger.SentLastHourAsync(now, ct);
        var current = targets.Select(t => t.Function).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _reported.Except(current))
        {
            metrics.BudgetPerHour.RemoveLabelled(gone);
            metrics.PingsLastHour.RemoveLabelled(gone);
        }

        foreach (var target in targets)
        {
            metrics.BudgetPerHour.WithLabels(target.Function).Set(target.BudgetPerHour);
            metrics.PingsLastHour.WithLabels(target.Function).Set(sent.GetValueOrDefault(target.Function));
        }

        metrics.Targets.Set(targets.Count);
        _reported = current;
    }

    private static DateTimeOffset WholeSecond(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    [LoggerMessage(EventId = (int)WarmUpLogEvents.PlannerRan, Level = LogLevel.Debug, Message = "Planner run: {Targets} targets, {Planned} pings planned")]
    private static partial void LogRan(ILogger logger, int targets, int planned);

    [LoggerMessage(EventId = (int)WarmUpLogEvents.PingPlanned, Level = LogLevel.Information, Message = "Ping of {Function} planned for {Slot:o} by the {Policy} policy (ping {PingId}, job {JobId})")]
    private static partial void LogPlanned(ILogger logger, string function, DateTimeOffset slot, string policy, long pingId, string jobId);

    [LoggerMessage(EventId = (int)WarmUpLogEvents.PingSkipped, Level = LogLevel.Information, Message = "Ping of {Function} at {Slot:o} skipped: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string function, DateTimeOffset slot, string reason);

    [LoggerMessage(EventId = (int)WarmUpLogEvents.CollectorTablesMissing, Level = LogLevel.Warning, Message = "The collector's tables are not in this database yet (start the collector on it): planning without history or discovery")]
    private static partial void LogNoCollectorTables(ILogger logger);

    [LoggerMessage(EventId = (int)WarmUpLogEvents.PlannerBusy, Level = LogLevel.Information, Message = "Another planner run holds the lock for longer than 30 s: this run is skipped")]
    private static partial void LogBusy(ILogger logger);

    [LoggerMessage(EventId = (int)WarmUpLogEvents.TargetsFileInvalid, Level = LogLevel.Error, Message = "The targets file {File} cannot be read now; nothing planned until it is fixed")]
    private static partial void LogTargetsFile(ILogger logger, Exception e, string? file);

    [LoggerMessage(EventId = (int)WarmUpLogEvents.TargetFailed, Level = LogLevel.Error, Message = "Planning {Function} failed; the other targets are planned and the next run tries again")]
    private static partial void LogTargetFailed(ILogger logger, Exception e, string function);
}
