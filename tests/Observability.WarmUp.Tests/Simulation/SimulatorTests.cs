using Observability.WarmUp.Policies;
using Observability.WarmUp.Simulation;

namespace Observability.WarmUp.Tests.Simulation;

public sealed class SimulatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
    private static readonly PolicySettings TenMinutes = new(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));

    // Invocations at 0, 5 and 30 minutes; the trace ends at 40 minutes.
    private static InvocationTrace ThreeCalls() => Trace(T0.AddMinutes(40), Minutes(0, 5, 30));

    [Fact]
    public void None_PaysACold_StartAfterEachGapLongerThanTheKeepAlive()
    {
        var result = Simulator.Run(ThreeCalls(), "none", new SimulationOptions(TenMinutes));

        // 0: cold (first), 5: warm, 30: cold (25 min idle). Warm over [0, 15] and [30, 40].
        Assert.Equal(3, result.Invocations);
        Assert.Equal(2, result.ColdStarts);
        Assert.Equal(0, result.Pings);
        Assert.Equal(25, result.WarmInstanceMinutes, 9);
    }

    [Fact]
    public void Idle_PingsAKeepAliveMinusTheMarginAfterTheLastActivity()
    {
        var result = Simulator.Run(ThreeCalls(), "idle", new SimulationOptions(TenMinutes));

        // Pings at 14.5 and 24 (after the call at 5), 39.5 (after the call at 30): every call after the first is warm.
        Assert.Equal(1, result.ColdStarts);
        Assert.Equal(3, result.Pings);
        Assert.Equal(0, result.ColdPings);
        Assert.Equal(40, result.WarmInstanceMinutes, 9);
    }

    [Fact]
    public void Fixed_PingsEveryIntervalAndAnInvocationWinsATie()
    {
        var result = Simulator.Run(ThreeCalls(), "fixed", new SimulationOptions(TenMinutes));

        // Pings at 0 (right after the first call), then 5 loses to the call at 5; 5 (after it), 10, 15, 20, 25, 30 loses
        // to the call, then 30, 35: eight pings.
        Assert.Equal(1, result.ColdStarts);
        Assert.Equal(8, result.Pings);
    }

    [Fact]
    public void Histogram_LearnsAnHourlyTimerAndSwitchesFromIdlePingsToOnePreWarmPing()
    {
        var trace = Trace(T0.AddMinutes(840), Minutes([.. Enumerable.Range(0, 15).Select(i => i * 60.0)]));

        var result = Simulator.Run(trace, "histogram", new SimulationOptions(TenMinutes));

        // Gaps 1..10: too few idle times, `idle` pings at 9.5, 19, ..., 57 min into each hour (6 pings). From the
        // 11th call on (10 idle times of 60 min: head 54 min, tail 67.1 min) one pre-warm ping at 53.5 min, which
        // finds the instance cold (it went cold at 10 min) and pays the cold start, for the 4 remaining gaps.
        Assert.Equal(1, result.ColdStarts);
        Assert.Equal((10 * 6) + 4, result.Pings);
        Assert.Equal(4, result.ColdPings);
        // Warm all the first 600 min; then per gap 10 min after the call and 6.5 min from the pre-warm ping.
        Assert.Equal(600 + (4 * (10 + 6.5)), result.WarmInstanceMinutes, 9);
    }

    [Fact]
    public void ClosedLoop_WidensTheMarginWhenThePlatformReclaimsEarlierThanConfigured()
    {
        // The platform reclaims after 9 minutes; the policy is told 10.
        var trace = Trace(T0.AddMinutes(60), Minutes(0, 60));
        var withLoop = Simulator.Run(trace, "idle", new SimulationOptions(TenMinutes, PlatformKeepAlive: TimeSpan.FromMinutes(9)));

        // 9.5: cold (signal 1, margin 60 s); 18.5: cold (signal 2, margin 120 s); then every 8 min, warm: 26.5, 34.5,
        // 42.5, 50.5, 58.5. The call at 60 is warm.
        Assert.Equal(7, withLoop.Pings);
        Assert.Equal(2, withLoop.ColdPings);
        Assert.Equal(1, withLoop.ColdStarts);
    }

    [Fact]
    public void PingBudget_RefusesPingsBeyondTheHourlyCapAndRetriesEveryMinute()
    {
        var trace = Trace(T0.AddMinutes(120), Minutes(0));

        var result = Simulator.Run(trace, "fixed", new SimulationOptions(TenMinutes, BudgetPerHour: 6));

        // Pings at 0, 5, ..., 25; refused at 30, 31, ..., 59 (30); at 60 the ping at 0 has left the hour: pings at
        // 60, 65, ..., 85; refused at 90, 91, ..., 119 (30).
        Assert.Equal(12, result.Pings);
        Assert.Equal(60, result.PingsSkippedByBudget);
    }

    [Fact]
    public void PerFunctionPercentiles_AreNearestRankOverTheFunctionsRates()
    {
        // Four functions under `none` with 10-minute keep-alive: cold-start rates 1/1, 1/2, 1/3 and 1/4.
        var end = T0.AddMinutes(100);
        var trace = new InvocationTrace(T0, end,
        [
            new FunctionTrace("a", null, Minutes(0)),
            new FunctionTrace("b", null, Minutes(0, 1)),
            new FunctionTrace("c", null, Minutes(0, 1, 2)),
            new FunctionTrace("d", null, Minutes(0, 1, 2, 3)),
        ]);

        var result = Simulator.Run(trace, "none", new SimulationOptions(TenMinutes));

        // Sorted 1/4, 1/3, 1/2, 1: p50 is rank ceil(2) = 1/3, p90 and p99 rank 4 = 1.
        Assert.Equal(1.0 / 3, result.FunctionColdStartRateP50, 12);
        Assert.Equal(1.0, result.FunctionColdStartRateP90, 12);
        Assert.Equal(1.0, result.FunctionColdStartRateP99, 12);
        Assert.Equal(4.0 / 10, result.ColdStartRate, 12);
        Assert.Equal(0, result.PingsPerFunctionDay);
    }

    [Fact]
    public void ThousandFunctionsOverSevenDays_ReplayInWellUnderAMinute()
    {
        var trace = SyntheticTrace.Generate(1000, 7, seed: 7);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = Simulator.Run(trace, "histogram", new SimulationOptions(TenMinutes));

        Assert.Equal(trace.Invocations, result.Invocations);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    private static InvocationTrace Trace(DateTimeOffset end, DateTimeOffset[] invocations) =>
        new(T0, end, [new FunctionTrace("f", null, invocations)]);

    private static DateTimeOffset[] Minutes(params double[] minutes) => [.. minutes.Select(m => T0.AddMinutes(m))];
}
