using Observability.Collector.Analysis;

namespace Observability.Collector.Tests.Analysis;

/// <summary>The percentile definition of the analysis API, and the startup-profile items it ranks.</summary>
public sealed class WeightedPercentileTests
{
    [Fact]
    public void With_unit_weights_it_is_percentile_disc_the_value_at_rank_ceil_p_n()
    {
        double[] values = [7, 1, 9, 3, 5, 3, 8, 2, 6, 4];
        var sorted = values.Order().ToArray();
        foreach (var p in new[] { 0.1, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0 })
        {
            var rank = (int)Math.Ceiling(p * values.Length); // PostgreSQL: the first value whose position / n >= p
            Assert.Equal(sorted[rank - 1], WeightedPercentile.Lower(values.Select(v => (v, 1.0)), p));
        }
    }

    [Fact]
    public void A_weight_counts_a_value_that_many_times()
    {
        // 10 ms standing for 8 spans, then 20, 30: cumulative weights 8, 9, 10. p50 needs 5, p90 needs 9.
        (double, double)[] samples = [(30, 1), (10, 8), (20, 1)];

        Assert.Equal(10, WeightedPercentile.Lower(samples, 0.5));
        Assert.Equal(20, WeightedPercentile.Lower(samples, 0.9));
        Assert.Equal(30, WeightedPercentile.Lower(samples, 0.95));
        Assert.Null(WeightedPercentile.Lower([], 0.5));
    }

    [Fact]
    public void Startup_profile_items_are_read_with_spaces_in_names_and_other_forms_skipped()
    {
        Assert.Equal(("Microsoft.AspNetCore.Http.RequestDelegate Invoke(HttpContext)", 3.25), StartupProfiles.ParseItem("Microsoft.AspNetCore.Http.RequestDelegate Invoke(HttpContext) 3.25 ms"));
        Assert.Null(StartupProfiles.ParseItem("App 3 s"));
    }
}
