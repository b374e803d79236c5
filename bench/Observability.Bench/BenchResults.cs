namespace Observability.Bench;

/// <summary>One round: a raw COPY measurement and an end-to-end measurement of the same spans.</summary>
internal sealed record RoundResult(string Round, RawCopyResult RawCopy, EndToEndResult EndToEnd)
{
    public double Ratio => EndToEnd.SpansPerSecond / RawCopy.SpansPerSecond;
}

/// <summary>The raw COPY side of a round.</summary>
internal sealed record RawCopyResult(double SpansPerSecond, CpuPerSpan Cpu);

/// <summary>The end-to-end side of a round: throughput, what the collector's /metrics and the database say.</summary>
internal sealed record EndToEndResult(
    double SpansPerSecond,
    long Acknowledged,
    long StoredRows,
    long DistinctStoredIds,
    long Retries,
    double Dropped,
    double Duplicates,
    double MeanBatchRows,
    double MeanCommitMilliseconds,
    CpuPerSpan Cpu,
    GcUse Gc)
{
    /// <summary>Acknowledged spans that are not in the table.</summary>
    public long Lost => Math.Max(0, Acknowledged - StoredRows);

    /// <summary>Rows stored more than once.</summary>
    public long DuplicateRows => StoredRows - DistinctStoredIds;
}

/// <summary>CPU microseconds per span: this process's, the whole machine's, and how busy the machine was.</summary>
internal sealed record CpuPerSpan(double Process, double Machine, double MachineBusy)
{
    public static CpuPerSpan Of(CpuUse cpu, long spans) =>
        new(cpu.Process.TotalMicroseconds / spans, cpu.Machine.TotalMicroseconds / spans, cpu.MachineBusy);
}

/// <summary>What a run reports: medians of the measured rounds, correctness over all rounds, the targets.</summary>
internal sealed record BenchResults(
    int SpansPerRound,
    int SpansPerRequest,
    int Clients,
    int RawConnections,
    int CollectorWriters,
    int BatchRows,
    int Cores,
    string Postgres,
    double RawCopySpansPerSecond,
    double EndToEndSpansPerSecond,
    double Ratio,
    long Retries,
    double Dropped,
    long Lost,
    long DuplicateRows,
    bool RatioMet,
    bool ThroughputMet,
    IReadOnlyList<RoundResult> Rounds,
    IReadOnlyList<StageCost>? Profile)
{
    public const double RatioTarget = 0.6;
    public const double ThroughputTarget = 30_000;

    /// <summary>
    /// Medians over the measured rounds (the first round is the warm-up); the ratio is the median of each
    /// round's own ratio, the two sides of a round having run back to back; counters are summed over all rounds.
    /// </summary>
    public static BenchResults From(
        BenchOptions options, int writers, int batchRows, string postgres, IReadOnlyList<RoundResult> rounds, IReadOnlyList<StageCost>? profile)
    {
        var measured = rounds.Skip(1).ToList();
        var raw = Median(measured.Select(r => r.RawCopy.SpansPerSecond));
        var endToEnd = Median(measured.Select(r => r.EndToEnd.SpansPerSecond));
        var ratio = Median(measured.Select(r => r.Ratio));
        var dropped = rounds.Sum(r => r.EndToEnd.Dropped);
        var lost = rounds.Sum(r => r.EndToEnd.Lost);
        var duplicates = rounds.Sum(r => r.EndToEnd.DuplicateRows);
        return new BenchResults(
            options.Spans,
            options.SpansPerRequest,
            options.Clients,
            options.RawConnections,
            writers,
            batchRows,
            Environment.ProcessorCount,
            postgres,
            raw,
            endToEnd,
            ratio,
            rounds.Sum(r => r.EndToEnd.Retries),
            dropped,
            lost,
            duplicates,
            ratio >= RatioTarget,
            endToEnd >= ThroughputTarget && dropped == 0 && lost == 0 && duplicates == 0,
            rounds,
            profile);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
