using System.Globalization;

namespace Observability.Bench;

/// <summary>The collector's own counters, read from its /metrics page.</summary>
internal sealed record CollectorCounters(double Dropped, double Duplicates, double Batches, double BatchRows, double CommitSeconds)
{
    public double MeanBatchRows => Batches == 0 ? 0 : BatchRows / Batches;

    public double MeanCommitMilliseconds => Batches == 0 ? 0 : CommitSeconds * 1000 / Batches;

    public static CollectorCounters operator -(CollectorCounters after, CollectorCounters before) => new(
        after.Dropped - before.Dropped,
        after.Duplicates - before.Duplicates,
        after.Batches - before.Batches,
        after.BatchRows - before.BatchRows,
        after.CommitSeconds - before.CommitSeconds);

    public static async Task<CollectorCounters> ReadAsync(HttpClient query)
    {
        var text = await query.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        return new CollectorCounters(
            Sum(text, "obs_collector_dropped_total"),
            Sum(text, "obs_collector_duplicates_total"),
            Sum(text, "obs_collector_batch_rows_count"),
            Sum(text, "obs_collector_batch_rows_sum"),
            Sum(text, "obs_collector_commit_duration_seconds_sum"));
    }

    /// <summary>The sum over every label set of one series name in the Prometheus text format.</summary>
    private static double Sum(string text, string name) => text
        .Split('\n')
        .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is '{' or ' ')
        .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}
