namespace Observability.WarmUp.Policies;

/// <summary>
/// A function's idle times (gaps between invocations) in 1-minute bins up to 4 hours, with a count of the idle
/// times beyond that range, as the hybrid histogram policy of "Serverless in the Wild" (Shahrad et al., USENIX
/// ATC 2020) keeps them.
/// </summary>
public sealed class IdleTimeHistogram
{
    /// <summary>1-minute bins up to 4 hours.</summary>
    public const int BinCount = 240;

    private readonly long[] _counts = new long[BinCount];

    // Sum of the squared bin counts, kept as idle times arrive so the coefficient of variation costs O(1).
    private double _sumOfSquares;

    /// <summary>Idle times that fell into a bin.</summary>
    public long InRange { get; private set; }

    /// <summary>Idle times of 4 hours or more.</summary>
    public long OutOfRange { get; private set; }

    public long Total => InRange + OutOfRange;

    /// <summary>Counts per bin: bin i holds idle times in [i, i+1) minutes.</summary>
    public ReadOnlySpan<long> Counts => _counts;

    public void Add(TimeSpan idle)
    {
        var bin = (long)Math.Floor(Math.Max(0, idle.TotalMinutes));
        if (bin >= BinCount)
        {
            OutOfRange++;
            return;
        }

        _sumOfSquares += (2 * _counts[bin]) + 1;
        _counts[bin]++;
        InRange++;
    }

    /// <summary>The share of idle times beyond the 4-hour range (0 when there are none).</summary>
    public double OutOfRangeShare => Total == 0 ? 0 : (double)OutOfRange / Total;

    /// <summary>
    /// The bin holding the <paramref name="percentile"/> (0..1] of the in-range idle times: the first bin where
    /// the cumulative count reaches <c>ceil(percentile * InRange)</c>. Its lower edge is <c>bin</c> minutes, its
    /// upper edge <c>bin + 1</c>. -1 when no idle time is in range.
    /// </summary>
    public int PercentileBin(double percentile)
    {
        if (percentile is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "A percentile is in (0, 1].");
        }

        if (InRange == 0)
        {
            return -1;
        }

        var target = Math.Max(1, (long)Math.Ceiling(percentile * InRange));
        long cumulative = 0;
        for (var bin = 0; bin < BinCount; bin++)
        {
            cumulative += _counts[bin];
            if (cumulative >= target)
            {
                return bin;
            }
        }

        return BinCount - 1;
    }

    /// <summary>
    /// The coefficient of variation (population standard deviation over mean) of the counts of all
    /// <see cref="BinCount"/> bins: high when idle times concentrate in a few bins, low when they spread evenly.
    /// 0 when no idle time is in range.
    /// </summary>
    public double BinCountCoefficientOfVariation()
    {
        if (InRange == 0)
        {
            return 0;
        }

        var mean = (double)InRange / BinCount;
        var variance = Math.Max(0, (_sumOfSquares / BinCount) - (mean * mean));
        return Math.Sqrt(variance) / mean;
    }
}
