using Observability.WarmUp.Simulation;

namespace Observability.WarmUp.Tests.Simulation;

public sealed class SyntheticTraceTests
{
    [Fact]
    public void SameSeed_GivesTheSameTrace()
    {
        var a = SyntheticTrace.Generate(200, 2, seed: 42);
        var b = SyntheticTrace.Generate(200, 2, seed: 42);

        Assert.Equal(a.Functions.Select(f => (f.Name, f.Kind)), b.Functions.Select(f => (f.Name, f.Kind)));
        Assert.Equal(a.Functions.SelectMany(f => f.Invocations), b.Functions.SelectMany(f => f.Invocations));
    }

    [Fact]
    public void OtherSeed_GivesAnotherTrace()
    {
        var a = SyntheticTrace.Generate(50, 1, seed: 1);
        var b = SyntheticTrace.Generate(50, 1, seed: 2);

        Assert.NotEqual(a.Functions.SelectMany(f => f.Invocations), b.Functions.SelectMany(f => f.Invocations));
    }

    [Fact]
    public void Trace_MixesTheKindsAndKeepsInvocationsSortedWithinItsSpan()
    {
        var trace = SyntheticTrace.Generate(500, 3, seed: 9);

        Assert.Equal(["frequent", "http", "rare", "timer"], trace.Functions.Select(f => f.Kind!).Distinct().Order());
        Assert.All(trace.Functions, f =>
        {
            Assert.True(f.Invocations.SequenceEqual(f.Invocations.Order()), f.Name);
            Assert.True(f.Invocations[0] >= trace.Start && f.Invocations[^1] < trace.End, f.Name);
        });
    }

    [Fact]
    public void Timers_FireOncePerPeriodOnTheMinuteWithAFewSecondsOfDelay()
    {
        var trace = SyntheticTrace.Generate(300, 1, seed: 5);

        foreach (var timer in trace.Functions.Where(f => f.Kind == "timer" && f.Invocations.Length > 2))
        {
            var minutes = timer.Invocations.Select(t => (long)Math.Floor((t - trace.Start).TotalMinutes)).ToArray();
            var period = minutes[1] - minutes[0];
            Assert.All(minutes.Zip(minutes.Skip(1)), pair => Assert.Equal(period, pair.Second - pair.First));
            Assert.All(timer.Invocations, t => Assert.InRange(t.Second, 0, 3));
        }
    }
}
