using Observability.WarmUp.Policies;

namespace Observability.WarmUp.Tests.Policies;

public sealed class IdleTimeHistogramStatisticsTests
{
    [Fact]
    public void PercentileBin_IsTheFirstBinWhoseCumulativeCountReachesThePercentile()
    {
        var histogram = new IdleTimeHistogram();
        // 20 idle times: 1 in bin 2, 18 in bin 30, 1 in bin 90.
        histogram.Add(TimeSpan.FromMinutes(2.5));
        for (var i = 0; i < 18; i++)
        {
            histogram.Add(TimeSpan.FromMinutes(30.2));
        }

        histogram.Add(TimeSpan.FromMinutes(90));

        // 5% of 20 = 1 idle time: bin 2. 50% = 10: bin 30. 99% of 20 = 19.8 -> 20: bin 90.
        Assert.Equal(2, histogram.PercentileBin(0.05));
        Assert.Equal(30, histogram.PercentileBin(0.5));
        Assert.Equal(90, histogram.PercentileBin(0.99));
    }

    [Fact]
    public void PercentileBin_IgnoresIdleTimesOutOfRange()
    {
        var histogram = new IdleTimeHistogram();
        histogram.Add(TimeSpan.FromMinutes(10));
        histogram.Add(TimeSpan.FromHours(5));
        histogram.Add(TimeSpan.FromHours(6));

        Assert.Equal(10, histogram.PercentileBin(0.99));
        Assert.Equal(2.0 / 3, histogram.OutOfRangeShare, 12);
    }

    [Fact]
    public void PercentileBin_IsMinusOneWithoutIdleTimesInRange()
    {
        Assert.Equal(-1, new IdleTimeHistogram().PercentileBin(0.5));
    }

    [Fact]
    public void CoefficientOfVariation_MatchesTheDefinitionOverAllBins()
    {
        var histogram = new IdleTimeHistogram();
        var minutes = new[] { 0.1, 0.2, 0.3, 5, 5.5, 61, 61, 61, 200 };
        foreach (var m in minutes)
        {
            histogram.Add(TimeSpan.FromMinutes(m));
        }

        var counts = new double[IdleTimeHistogram.BinCount];
        foreach (var m in minutes)
        {
            counts[(int)m]++;
        }

        var mean = counts.Average();
        var sd = Math.Sqrt(counts.Select(c => (c - mean) * (c - mean)).Average());
        Assert.Equal(sd / mean, histogram.BinCountCoefficientOfVariation(), 9);
    }

    [Fact]
    public void CoefficientOfVariation_OfOneFullBinIsTheSquareRootOfTheOtherBins()
    {
        var histogram = new IdleTimeHistogram();
        for (var i = 0; i < 7; i++)
        {
            histogram.Add(TimeSpan.FromMinutes(15));
        }

        Assert.Equal(Math.Sqrt(IdleTimeHistogram.BinCount - 1), histogram.BinCountCoefficientOfVariation(), 9);
    }
}
