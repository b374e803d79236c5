using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Observability.Testing;
using Observability.WarmUp.Storage;
using static Observability.WarmUp.Tests.Scheduling.SchedulingFixtures;

namespace Observability.WarmUp.Tests.Scheduling;

/// <summary>The planner on Hangfire and the real PostgreSQL: what it reads, what it schedules, what it skips.</summary>
public sealed class PlannerTests
{
    [Fact]
    public async Task An_idle_ping_is_scheduled_for_when_the_keep_alive_minus_the_margin_runs_out_and_records_what_it_found()
    {
        var db = await NewDatabaseAsync();
        await using var collector = await CollectorRunner.StartAsync(db);
        await using var sidecar = await PingTarget.StartAsync();
        var keepAlive = TimeSpan.FromMinutes(10);
        var margin = TimeSpan.FromSeconds(30);
        // The planner's clock is the real time (Hangfire's delays are real); fixed, so the plan is exact.
        var now = DateTimeOffset.UtcNow;
        var last = now - keepAlive + margin + TimeSpan.FromSeconds(3);
        await SendInvocationsAsync(collector, db, "orders", sidecar.Url, now - TimeSpan.FromMinutes(50), now - TimeSpan.FromMinutes(20), last);
        await using var scheduler = await SchedulerRunner.StartAsync(db, o =>
        {
            o.DefaultPolicy = "idle";
            o.KeepAlive = keepAlive;
            o.Margin = margin;
        }, new FakeTimeProvider(now));

        var planned = await scheduler.PlanAsync();

        var ping = Assert.Single(await PingsAsync(db, "orders"));
        Assert.Equal([ping.Id], planned);
        Assert.Equal(WholeSecond(last + keepAlive - margin), ping.PlannedAt);
        var answered = Assert.Single(await AnsweredPingsAsync(db, "orders", 1));
        Assert.Equal("cold", answered.Outcome);
        Assert.Equal(200, answered.StatusCode);
        Assert.True(sidecar.FirstPingAt >= ping.PlannedAt, $"sent at {sidecar.FirstPingAt:o}, before its planned time {ping.PlannedAt:o}");
        Assert.Equal(("discovered", sidecar.Url.ToString(), "idle"), await TargetAsync(db, "orders"));

        var metrics = await scheduler.MetricsAsync();
        Assert.Equal(1, MetricsText.Value(metrics, "obs_warmup_pings_total{function=\"orders\",outcome=\"cold\"}"));
        Assert.Equal(1, MetricsText.Value(metrics, "obs_warmup_targets"));
        Assert.Equal(1, MetricsText.Value(metrics, "obs_warmup_planner_runs_total"));
        Assert.Equal(60, MetricsText.Value(metrics, "obs_warmup_budget_per_hour{function=\"orders\"}"));
    }

    [Fact]
    public async Task Activity_comes_from_the_collectors_spans_with_idle_times_in_minute_bins_and_warm_up_pings_left_out()
    {
        var db = await NewDatabaseAsync();
        await using var collector = await CollectorRunner.StartAsync(db);
        var now = DateTimeOffset.UtcNow;
        var t0 = now - TimeSpan.FromHours(6);
        var gaps = new[] { TimeSpan.FromSeconds(90), TimeSpan.FromMinutes(10.5), TimeSpan.FromHours(5) };
        var starts = new List<DateTimeOffset> { t0 };
        foreach (var gap in gaps)
        {
            starts.Add(starts[^1] + gap);
        }

        await SendInvocationsAsync(collector, db, "reports", null, [.. starts]);
        // A warm-up ping later than every invocation: neither the last invocation nor an idle time.
        await SendPingSpanAsync(collector, db, "reports", now - TimeSpan.FromMinutes(1));
        await using var scheduler = await SchedulerRunner.StartAsync(db);

        var activity = await scheduler.Services.GetRequiredService<ActivityReader>()
            .ReadAsync("reports", now, TimeSpan.FromDays(7), TimeSpan.FromHours(1), TimeSpan.FromMinutes(10), CancellationToken.None);

        Assert.Equal(starts[^1].ToUnixTimeMilliseconds(), activity.LastInvocation!.Value.ToUnixTimeMilliseconds());
        Assert.Null(activity.LastPing);
        Assert.Equal(2, activity.IdleTimes.InRange);
        Assert.Equal(1, activity.IdleTimes.OutOfRange);
        Assert.Equal(1, activity.IdleTimes.Counts[(int)gaps[0].TotalMinutes]);
        Assert.Equal(1, activity.IdleTimes.Counts[(int)gaps[1].TotalMinutes]);
        Assert.Equal(0, activity.RecentColdSignals);
    }

    [Fact]
    public async Task Pings_over_the_hourly_budget_and_outside_active_hours_are_skipped_and_counted()
    {
        var db = await NewDatabaseAsync();
        await using var sidecar = await PingTarget.StartAsync();
        var inactiveMinute = (DateTime.UtcNow.Minute + 30) % 60;
        var file = TargetsFile($"""
            targets:
              - function: capped
                url: {sidecar.Url}
                policy: fixed
                fixedInterval: "00:01:00"
                budgetPerHour: 1
              - function: asleep
                url: {sidecar.Url}
                policy: fixed
                activeHours: "{inactiveMinute} * * * *"
            """);
        // A clock that stands still: every run asks about the same moment, so each skipped ping has one slot.
        await using var scheduler = await SchedulerRunner.StartAsync(db, o => o.TargetsFile = file, new FakeTimeProvider(DateTimeOffset.UtcNow));

        Assert.Single(await scheduler.PlanAsync());
        await AnsweredPingsAsync(db, "capped", 1);
        // The fixed policy now wants the next ping a minute after the last: inside the planner's horizon, over budget.
        Assert.Empty(await scheduler.PlanAsync());
        Assert.Empty(await scheduler.PlanAsync());

        Assert.Single(await PingsAsync(db, "capped"));
        Assert.Empty(await PingsAsync(db, "asleep"));
        var metrics = await scheduler.MetricsAsync();
        // A skipped ping is counted once, however many runs see it.
        Assert.Equal(1, MetricsText.Value(metrics, "obs_warmup_pings_skipped_total{function=\"capped\",reason=\"budget\"}"));
        Assert.Equal(1, MetricsText.Value(metrics, "obs_warmup_pings_skipped_total{function=\"asleep\",reason=\"inactive_hours\"}"));
        Assert.Equal(1, MetricsText.Value(metrics, "obs_warmup_pings_last_hour{function=\"capped\"}"));
        Assert.Equal(1, MetricsText.Value(metrics, "obs_warmup_budget_per_hour{function=\"capped\"}"));
        Assert.Equal(2, MetricsText.Value(metrics, "obs_warmup_targets"));
    }

    [Fact]
    public async Task The_targets_file_wins_over_a_sidecars_advertisement_and_a_url_left_out_is_taken_from_it()
    {
        var db = await NewDatabaseAsync();
        await using var collector = await CollectorRunner.StartAsync(db);
        await using var advertisedShop = await PingTarget.StartAsync();
        await using var configuredShop = await PingTarget.StartAsync();
        await using var advertisedCart = await PingTarget.StartAsync();
        var now = DateTimeOffset.UtcNow;
        await SendInvocationsAsync(collector, db, "shop", advertisedShop.Url, now - TimeSpan.FromMinutes(30));
        await SendInvocationsAsync(collector, db, "cart", advertisedCart.Url, now - TimeSpan.FromMinutes(30));
        var file = TargetsFile($"""
            targets:
              - function: shop
                url: {configuredShop.Url}
                policy: fixed
                instances: 3
              - function: cart
                policy: fixed
            """);
        await using var scheduler = await SchedulerRunner.StartAsync(db, o => o.TargetsFile = file);

        Assert.Equal(2, (await scheduler.PlanAsync()).Count);
        await AnsweredPingsAsync(db, "shop", 1);
        await AnsweredPingsAsync(db, "cart", 1);

        Assert.Equal(3, configuredShop.Pings);
        Assert.Equal(0, advertisedShop.Requests);
        Assert.Equal(1, advertisedCart.Pings);
        Assert.Equal(("config", configuredShop.Url.ToString(), "fixed"), await TargetAsync(db, "shop"));
        Assert.Equal(("config", advertisedCart.Url.ToString(), "fixed"), await TargetAsync(db, "cart"));
    }

    private static async Task<(string Source, string Url, string Policy)> TargetAsync(string db, string function)
    {
        var source = await Sql.ScalarAsync<string>(db, "SELECT source FROM warmup.targets WHERE function_name = $1", function);
        var url = await Sql.ScalarAsync<string>(db, "SELECT url FROM warmup.targets WHERE function_name = $1", function);
        var policy = await Sql.ScalarAsync<string>(db, "SELECT policy FROM warmup.targets WHERE function_name = $1", function);
        return (source, url, policy);
    }
}
