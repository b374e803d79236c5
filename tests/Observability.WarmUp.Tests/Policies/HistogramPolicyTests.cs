using Microsoft.Extensions.Time.Testing;
using Observability.WarmUp.Policies;

namespace Observability.WarmUp.Tests.Policies;

public sealed class HistogramPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly PolicySettings Settings = new(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));

    [Fact]
    public void HourlyTimer_IsPreWarmedBeforeTheHeadAndKeptWarmPastTheTail()
    {
        // 20 idle times of exactly an hour: head = 60 min * 0.9 = 54 min, tail = 61 min * 1.1 = 67.1 min.
        var histogram = Histogram(Enumerable.Repeat(60.0, 20));
        var policy = new HistogramPolicy(Settings);
        var clock = new FakeTimeProvider(T0);

        // Warm by itself until 10 min, cold from then to the head: pre-warm at 54 min - 30 s.
        var first = policy.NextPing(new FunctionActivity("timer", T0, null, histogram), clock.GetUtcNow());
        Assert.Equal(T0.AddMinutes(53.5), first);

        // That ping keeps it warm until 63.5 min < 67.1 min: one more just before it would go cold.
        clock.SetUtcNow(first!.Value);
        var second = policy.NextPing(new FunctionActivity("timer", T0, first, histogram), clock.GetUtcNow());
        Assert.Equal(T0.AddMinutes(63), second);

        // Warm until 73 min, past the tail: no more pings until the next invocation.
        clock.SetUtcNow(second!.Value);
        Assert.Null(policy.NextPing(new FunctionActivity("timer", T0, second, histogram), clock.GetUtcNow()));
    }

    [Fact]
    public void HeadWithinTheKeepAlive_KeepsWarmFromTheInvocationToTheTail()
    {
        // Idle times in bin 3 (x12) and bin 19 (x8): 5% -> bin 3, head 2.7 min; 99% -> bin 19, tail 22 min.
        var histogram = Histogram(Enumerable.Repeat(3.5, 12).Concat(Enumerable.Repeat(19.5, 8)));
        Assert.True(histogram.BinCountCoefficientOfVariation() >= HistogramPolicy.MinimumCoefficientOfVariation);
        var policy = new HistogramPolicy(Settings);

        var pings = Replay(policy, histogram, T0);

        // Warm until 10 min by itself; pings at 9.5 and 19 min; the one at 19 keeps it warm to 29 min > 22 min.
        Assert.Equal([T0.AddMinutes(9.5), T0.AddMinutes(19)], pings);
    }

    [Fact]
    public void TailWithinTheKeepAlive_NeedsNoPings()
    {
        // A function invoked every 4 minutes: tail = 5 min * 1.1 = 5.5 min, within the 10-minute keep-alive.
        var histogram = Histogram(Enumerable.Repeat(4.0, 30));
        var policy = new HistogramPolicy(Settings);

        Assert.Null(policy.NextPing(new FunctionActivity("busy", T0, null, histogram), T0));
    }

    [Fact]
    public void AfterTheWindow_NoPingIsPlannedEvenIfOneWasMissed()
    {
        var histogram = Histogram(Enumerable.Repeat(60.0, 20));
        var policy = new HistogramPolicy(Settings);

        Assert.Null(policy.NextPing(new FunctionActivity("timer", T0, null, histogram), T0.AddMinutes(70)));
    }

    [Fact]
    public void TooFewObservations_FallsBackToIdle()
    {
        var histogram = Histogram(Enumerable.Repeat(60.0, HistogramPolicy.MinimumObservations - 1));
        var policy = new HistogramPolicy(Settings);

        Assert.Equal(HistogramFallback.TooFewObservations, HistogramPolicy.Decide(histogram).Fallback);
        Assert.Equal(T0.AddMinutes(9.5), policy.NextPing(new FunctionActivity("f", T0, null, histogram), T0));
    }

    [Fact]
    public void IdleTimesSpreadOverTheRange_AreNotRepresentativeAndFallBackToIdle()
    {
        // One idle time in each of 120 bins: CV of the bin counts is 1 (half the bins hold 1, half 0).
        var histogram = Histogram(Enumerable.Range(0, 120).Select(i => (i * 2) + 0.5));
        Assert.Equal(1.0, histogram.BinCountCoefficientOfVariation(), 9);
        var policy = new HistogramPolicy(Settings);

        Assert.Equal(HistogramFallback.NotRepresentative, HistogramPolicy.Decide(histogram).Fallback);
        Assert.Equal(T0.AddMinutes(9.5), policy.NextPing(new FunctionActivity("f", T0, null, histogram), T0));
    }

    [Fact]
    public void MostIdleTimesBeyondFourHours_FallBackToIdle()
    {
        // 6 of 16 in range: out-of-range share 10/16 > 0.5.
        var histogram = Histogram(Enumerable.Repeat(60.0, 6).Concat(Enumerable.Repeat(300.0, 10)));
        var policy = new HistogramPolicy(Settings);

        Assert.Equal(HistogramFallback.TooManyOutOfRange, HistogramPolicy.Decide(histogram).Fallback);
        Assert.Equal(T0.AddMinutes(9.5), policy.NextPing(new FunctionActivity("f", T0, null, histogram), T0));
    }

    [Fact]
    public void HalfBeyondFourHours_StillUsesTheHistogram()
    {
        var histogram = Histogram(Enumerable.Repeat(60.0, 10).Concat(Enumerable.Repeat(300.0, 10)));

        var decision = HistogramPolicy.Decide(histogram);

        Assert.Equal(HistogramFallback.None, decision.Fallback);
        Assert.Equal(TimeSpan.FromMinutes(54), decision.Head);
        Assert.Equal(TimeSpan.FromMinutes(67.1), decision.Tail);
    }

    [Fact]
    public void ColdSignals_TightenTheMarginOfPreWarmAndKeepWarmPings()
    {
        var histogram = Histogram(Enumerable.Repeat(60.0, 20));
        var policy = new HistogramPolicy(Settings);

        // Two signals: margin 30 s * 4 = 2 min.
        var preWarm = policy.NextPing(new FunctionActivity("timer", T0, null, histogram, RecentColdSignals: 2), T0);
        Assert.Equal(T0.AddMinutes(52), preWarm);
        var keepWarm = policy.NextPing(new FunctionActivity("timer", T0, preWarm, histogram, RecentColdSignals: 2), preWarm!.Value);
        Assert.Equal(T0.AddMinutes(60), keepWarm);

        // Many signals: capped at half the keep-alive (5 min).
        var capped = policy.NextPing(new FunctionActivity("timer", T0, null, histogram, RecentColdSignals: 50), T0);
        Assert.Equal(T0.AddMinutes(49), capped);
    }

    [Fact]
    public void PingBudget_RefusesPingsBeyondTheHourlyCapUntilTheOldestLeavesTheWindow()
    {
        // The idle fallback at a 1-minute keep-alive wants a ping every 30 s; a budget of 4 per hour stops it.
        var settings = new PolicySettings(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));
        var policy = new HistogramPolicy(settings);
        var budget = new PingBudget(4);
        var clock = new FakeTimeProvider(T0);
        DateTimeOffset? lastPing = null;
        var sent = new List<DateTimeOffset>();
        var skipped = 0;
        while (clock.GetUtcNow() < T0.AddMinutes(65))
        {
            var due = policy.NextPing(new FunctionActivity("f", T0, lastPing, new IdleTimeHistogram()), clock.GetUtcNow())!.Value;
            clock.SetUtcNow(due);
            if (budget.TrySpend(due))
            {
                sent.Add(due);
                lastPing = due;
            }
            else
            {
                skipped++;
                clock.Advance(TimeSpan.FromMinutes(1));
            }
        }

        // 4 pings at 0.5, 1, 1.5, 2 min; refused every minute from 2.5 to 59.5 min (58 times); at 60.5 min the
        // first leaves the hour: 4 more; refused again at 62.5, 63.5 and 64.5 min.
        Assert.Equal([0.5, 1, 1.5, 2, 60.5, 61, 61.5, 62], sent.Select(t => (t - T0).TotalMinutes));
        Assert.Equal(58 + 3, skipped);
    }

    private static IdleTimeHistogram Histogram(IEnumerable<double> minutes)
    {
        var histogram = new IdleTimeHistogram();
        foreach (var m in minutes)
        {
            histogram.Add(TimeSpan.FromMinutes(m));
        }

        return histogram;
    }

    // Asks the policy again after each ping it plans, as the planner does, until it plans none.
    private static List<DateTimeOffset> Replay(HistogramPolicy policy, IdleTimeHistogram histogram, DateTimeOffset invoked)
    {
        var pings = new List<DateTimeOffset>();
        DateTimeOffset? last = null;
        var now = invoked;
        while (policy.NextPing(new FunctionActivity("f", invoked, last, histogram), now) is { } next && pings.Count < 100)
        {
            pings.Add(next);
            last = next;
            now = next;
        }

        return pings;
    }
}
