using Observability.WarmUp.Policies;

namespace Observability.WarmUp.Tests.Policies;

public sealed class WarmUpPoliciesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Names_AreTheFourPolicies()
    {
        Assert.Equal(["none", "fixed", "idle", "histogram"], WarmUpPolicies.Names);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("fixed")]
    [InlineData("idle")]
    [InlineData("histogram")]
    [InlineData("Histogram")]
    public void Create_ReturnsThePolicyOfThatName(string name)
    {
        var policy = WarmUpPolicies.Create(name, PolicySettings.Default);

        Assert.Equal(name.ToLowerInvariant(), policy.Name);
    }

    [Fact]
    public void Create_RejectsAnUnknownNameAndListsTheValidOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => WarmUpPolicies.Create("eager", PolicySettings.Default));

        Assert.Contains("'eager'", error.Message, StringComparison.Ordinal);
        Assert.Contains("none, fixed, idle, histogram", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_RejectsAMarginAsLongAsTheKeepAlive()
    {
        var settings = PolicySettings.Default with { Margin = PolicySettings.Default.KeepAlive };

        Assert.Throws<ArgumentException>(() => WarmUpPolicies.Create("idle", settings));
    }

    [Fact]
    public void None_NeverPings()
    {
        var policy = WarmUpPolicies.Create("none", PolicySettings.Default);
        var histogram = new IdleTimeHistogram();
        for (var i = 0; i < 50; i++)
        {
            histogram.Add(TimeSpan.FromMinutes(30));
        }

        Assert.Null(policy.NextPing(new FunctionActivity("f", null, null, new IdleTimeHistogram()), T0));
        Assert.Null(policy.NextPing(new FunctionActivity("f", T0, null, histogram, RecentColdSignals: 5), T0.AddDays(1)));
    }

    [Fact]
    public void Fixed_PingsEveryIntervalWhateverTheInvocations()
    {
        var policy = WarmUpPolicies.Create("fixed", PolicySettings.Default);

        var next = policy.NextPing(new FunctionActivity("f", T0.AddMinutes(4), T0, new IdleTimeHistogram()), T0.AddMinutes(4));

        Assert.Equal(T0.AddMinutes(5), next);
    }
}
