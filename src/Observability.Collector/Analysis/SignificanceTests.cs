using MathNet.Numerics.Distributions;

namespace Observability.Collector.Analysis;

/// <summary>The result of a two-sided test: its statistic, the standard normal score it came to, and the p-value.</summary>
public sealed record TestResult(double Statistic, double Z, double PValue);

/// <summary>
/// The tests of the version comparison, as pure functions. Both use the normal approximation, as scipy's
/// <c>mannwhitneyu(method="asymptotic")</c> and statsmodels' <c>proportions_ztest</c> do, so their results can be
/// checked against those.
/// </summary>
public static class SignificanceTests
{
    /// <summary>
    /// Mann-Whitney U of <paramref name="x"/> against <paramref name="y"/>, two-sided: the statistic is U of x (the
    /// number of pairs where x is larger, ties counting half), the variance is corrected for ties and z has the
    /// continuity correction of 0.5. Null when a sample is empty; p = 1 when every value is the same.
    /// </summary>
    public static TestResult? MannWhitneyU(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int n1 = x.Count, n2 = y.Count, n = n1 + n2;
        if (n1 == 0 || n2 == 0)
        {
            return null;
        }

        var all = new (double Value, bool FromX)[n];
        for (var i = 0; i < n1; i++)
        {
            all[i] = (x[i], true);
        }

        for (var i = 0; i < n2; i++)
        {
            all[n1 + i] = (y[i], false);
        }

        Array.Sort(all, (a, b) => a.Value.CompareTo(b.Value));
        double rankSumX = 0, tieTerm = 0;
        for (var i = 0; i < n;)
        {
            var j = i;
            while (j + 1 < n && all[j + 1].Value == all[i].Value)
            {
                j++;
            }

            var averageRank = ((i + j) / 2.0) + 1;
            double tied = j - i + 1;
            tieTerm += (tied * tied * tied) - tied;
            for (var k = i; k <= j; k++)
            {
                rankSumX += all[k].FromX ? averageRank : 0;
            }

            i = j + 1;
        }

        var u1 = rankSumX - (n1 * (n1 + 1) / 2.0);
        var u = Math.Max(u1, ((double)n1 * n2) - u1);
        var mean = n1 * (double)n2 / 2;
        var sigma = Math.Sqrt(n1 * (double)n2 / 12 * (n + 1 - (tieTerm / (n * (double)(n - 1)))));
        if (sigma == 0 || double.IsNaN(sigma))
        {
            return new TestResult(u1, 0, 1);
        }

        var z = (u - mean - 0.5) / sigma;
        return new TestResult(u1, z, Math.Min(1, 2 * Normal.CDF(0, 1, -z)));
    }

    /// <summary>
    /// Two-proportion z-test with the pooled proportion, two-sided: z for p2 - p1. Counts may have fractions (the
    /// adjusted counts of sampled spans). Null when a total is not positive; z = 0, p = 1 when the pooled
    /// proportion is 0 or 1 (no variance to test against).
    /// </summary>
    public static TestResult? TwoProportionZ(double successes1, double total1, double successes2, double total2)
    {
        if (total1 <= 0 || total2 <= 0)
        {
            return null;
        }

        var pooled = (successes1 + successes2) / (total1 + total2);
        var se = Math.Sqrt(pooled * (1 - pooled) * ((1 / total1) + (1 / total2)));
        if (se == 0 || double.IsNaN(se))
        {
            return new TestResult(0, 0, 1);
        }

        var z = ((successes2 / total2) - (successes1 / total1)) / se;
        return new TestResult(z, z, Math.Min(1, 2 * Normal.CDF(0, 1, -Math.Abs(z))));
    }
}
