using Observability.WarmUp.Policies;

namespace Observability.WarmUp.Tests.Policies;

public sealed class IdlePolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly PolicySettings Settings = new(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));

    [Fact]
    public void NextPing_IsKeepAliveMinusMarginAfterTheLastInvocation()
    {
        var policy = new IdlePolicy(Settings);

        var next = policy.NextPing(Activity(lastInvocation: T0), T0.AddMinutes(1));

        Assert.Equal(T0.AddMinutes(10).AddSeconds(-30), next);
    }

    [Fact]
    public void NextPing_CountsFromAPingWhenItCameAfterTheInvocation()
    {
        var policy = new IdlePolicy(Settings);
        var pinged = T0.AddMinutes(9.5);

        var next = policy.NextPing(Activity(lastInvocation: T0, lastPing: pinged), pinged);

        Assert.Equal(pinged.AddMinutes(9.5), next);
    }

    [Fact]
    public void NextPing_IsNowWhenThePingIsOverdue()
    {
        var policy = new IdlePolicy(Settings);
        var late = T0.AddHours(2);

        Assert.Equal(late, policy.NextPing(Activity(lastInvocation: T0), late));
    }

    [Fact]
    public void NextPing_IsNowForAFunctionNeverSeen()
    {
        var policy = new IdlePolicy(Settings);

        Assert.Equal(T0, policy.NextPing(Activity(lastInvocation: null), T0));
    }

    [Fact]
    public void ColdSignals_DoubleTheMarginUpToHalfTheKeepAlive()
    {
        var policy = new IdlePolicy(Settings);

        // 30 s, then 60 s, 120 s, 240 s; 480 s would pass half the keep-alive (300 s), so it stops there.
        var expectedMargins = new[] { 30, 60, 120, 240, 300, 300 };
        for (var signals = 0; signals < expectedMargins.Length; signals++)
        {
            var next = policy.NextPing(Activity(lastInvocation: T0, signals: signals), T0);
            Assert.Equal(T0.AddMinutes(10).AddSeconds(-expectedMargins[signals]), next);
        }
    }

    private static FunctionActivity Activity(DateTimeOffset? lastInvocation, DateTimeOffset? lastPing = null, int signals = 0) =>
        new("f", lastInvocation, lastPing, new IdleTimeHistogram(), signals);
}
