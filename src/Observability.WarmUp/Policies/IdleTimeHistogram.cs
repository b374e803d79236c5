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

        _counts[bin]++;
        InRange++;
    }
}
