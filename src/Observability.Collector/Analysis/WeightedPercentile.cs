namespace Observability.Collector.Analysis;

/// <summary>
/// The percentile every analysis number uses (also in SQL): the lower weighted percentile, the smallest value whose
/// cumulative weight reaches p × the total weight. With every weight 1 it is PostgreSQL's percentile_disc.
/// </summary>
public static class WeightedPercentile
{
    /// <summary>The percentile of <paramref name="samples"/>, sorted here; null when there are none.</summary>
    public static double? Lower(IEnumerable<(double Value, double Weight)> samples, double p)
    {
        var sorted = samples.OrderBy(s => s.Value).ToArray();
        var threshold = p * sorted.Sum(s => s.Weight);
        double cumulative = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            cumulative += sorted[i].Weight;
            // Equal values count together, as a window ordered by value counts its peers.
            if ((i + 1 == sorted.Length || sorted[i + 1].Value != sorted[i].Value) && cumulative >= threshold)
            {
                return sorted[i].Value;
            }
        }

        return sorted.Length == 0 ? null : sorted[^1].Value;
    }
}
