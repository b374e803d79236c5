using Observability.Collector.Analysis;

namespace Observability.Collector.Tests.Analysis;

/// <summary>The version comparison's tests against published results of scipy and statsmodels.</summary>
public sealed class SignificanceTestsTests
{
    [Fact]
    public void Mann_whitney_matches_scipys_asymptotic_result_of_its_documented_example()
    {
        // scipy.stats.mannwhitneyu docs: males = [19, 22, 16, 29, 24], females = [20, 11, 17, 12],
        // method="asymptotic": statistic 17.0, pvalue 0.11134688653314041.
        var result = SignificanceTests.MannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12])!;

        Assert.Equal(17.0, result.Statistic);
        Assert.Equal(0.11134688653314041, result.PValue, 1e-12);
    }

    [Fact]
    public void Mann_whitney_corrects_the_variance_for_ties()
    {
        // U1 counts the pairs where x is larger, a tie counting half: the three 3s tie with y's 3 (1.5), the 4 beats
        // y's 3 and ties its two 4s (2): U1 = 3.5. Tie groups: 2 (x2), 3 (x3 + y1 = 4), 4 (x1 + y2 = 3), 5 (y2):
        // sum(t^3 - t) = 6 + 60 + 24 + 6 = 96. n1 = 7, n2 = 6, n = 13: sigma = sqrt(42 / 12 * (14 - 96 / 156)).
        double[] x = [1, 2, 2, 3, 3, 3, 4], y = [3, 4, 4, 5, 5, 6];
        var pairs = x.Sum(a => y.Sum(b => a > b ? 1.0 : a == b ? 0.5 : 0));
        var sigma = Math.Sqrt(7 * 6 / 12.0 * (14 - (96.0 / (13 * 12))));
        var z = ((42 - pairs) - 21 - 0.5) / sigma;

        var result = SignificanceTests.MannWhitneyU(x, y)!;

        Assert.Equal(pairs, result.Statistic);
        Assert.Equal(3.5, result.Statistic);
        Assert.Equal(z, result.Z, 1e-12);
        // The same in scipy: mannwhitneyu(x, y, method="asymptotic").pvalue = 0.012999854364387...
        Assert.Equal(0.012999854364387, result.PValue, 1e-12);
    }

    [Fact]
    public void Mann_whitney_of_identical_values_is_not_significant()
    {
        var result = SignificanceTests.MannWhitneyU([5, 5, 5], [5, 5])!;

        Assert.Equal(1, result.PValue);
        Assert.Null(SignificanceTests.MannWhitneyU([], [1]));
    }

    [Fact]
    public void Two_proportion_test_matches_statsmodels_documented_example()
    {
        // statsmodels proportions_ztest(count=[5, 12], nobs=[83, 99]): z = -1.4078, p = 0.159 (z is for the first
        // minus the second; here it is the second minus the first, so the sign turns).
        var result = SignificanceTests.TwoProportionZ(12, 99, 5, 83)!;

        Assert.Equal(-1.4078304151258787, result.Z, 1e-12);
        Assert.Equal(0.15918129181156995, result.PValue, 1e-12);
    }

    [Fact]
    public void Two_proportion_test_without_variance_or_totals_says_so()
    {
        Assert.Equal(1, SignificanceTests.TwoProportionZ(0, 10, 0, 20)!.PValue);
        Assert.Null(SignificanceTests.TwoProportionZ(0, 0, 1, 2));
    }
}
