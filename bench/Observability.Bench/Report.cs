using System.Globalization;
using System.Text.Json;

namespace Observability.Bench;

/// <summary>Prints the results: an aligned table for people, or JSON for scripts.</summary>
internal static class Report
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void WriteJson(TextWriter output, BenchResults results) =>
        output.WriteLine(JsonSerializer.Serialize(results, JsonOptions));

    public static void WriteTable(TextWriter output, BenchResults r)
    {
        output.WriteLine(
            $"Collector ingest: {N(r.SpansPerRound)} spans per round, {r.SpansPerRequest} spans per request, {r.Clients} clients, " +
            $"raw COPY on {r.RawConnections} connection(s), " +
            $"{r.CollectorWriters} collector writers, batches of {N(r.BatchRows)} rows, {r.Cores} cores, PostgreSQL {r.Postgres}");
        output.WriteLine();

        string[] rounds = [.. r.Rounds.Select(x => x.Round)];
        Rows(output, ["spans/s", .. rounds, "median"],
        [
            ["raw COPY", .. r.Rounds.Select(x => N(x.RawCopy.SpansPerSecond)), N(r.RawCopySpansPerSecond)],
            ["end to end", .. r.Rounds.Select(x => N(x.EndToEnd.SpansPerSecond)), N(r.EndToEndSpansPerSecond)],
            ["ratio", .. r.Rounds.Select(x => F(x.Ratio)), F(r.Ratio)],
        ]);
        output.WriteLine();

        Rows(output, ["result", "value", "target", ""],
        [
            ["raw COPY spans/s (median)", N(r.RawCopySpansPerSecond), "", ""],
            ["end-to-end spans/s (median)", N(r.EndToEndSpansPerSecond), $">= {N(BenchResults.ThroughputTarget)}", Pass(r.EndToEndSpansPerSecond >= BenchResults.ThroughputTarget)],
            ["ratio end to end / raw COPY", F(r.Ratio), $">= {F(BenchResults.RatioTarget)}", Pass(r.RatioMet)],
            ["retries (429/503), all rounds", N(r.Retries), "", ""],
            ["obs_collector_dropped_total, all rounds", N(r.Dropped), "0", Pass(r.Dropped == 0)],
            ["lost / duplicate rows (SQL), all rounds", $"{N(r.Lost)} / {N(r.DuplicateRows)}", "0 / 0", Pass(r.Lost == 0 && r.DuplicateRows == 0)],
            ["targets", "", "", r.RatioMet && r.ThroughputMet ? "PASS" : "FAIL"],
        ]);

        output.WriteLine();
        Rows(output, ["where the time went", .. rounds],
        [
            ["e2e rows per batch", .. r.Rounds.Select(x => N(x.EndToEnd.MeanBatchRows))],
            ["e2e ms per commit", .. r.Rounds.Select(x => F(x.EndToEnd.MeanCommitMilliseconds))],
            ["raw CPU µs/span, this process", .. r.Rounds.Select(x => F(x.RawCopy.Cpu.Process))],
            ["raw CPU µs/span, machine", .. r.Rounds.Select(x => F(x.RawCopy.Cpu.Machine))],
            ["raw machine busy", .. r.Rounds.Select(x => P(x.RawCopy.Cpu.MachineBusy))],
            ["e2e CPU µs/span, this process", .. r.Rounds.Select(x => F(x.EndToEnd.Cpu.Process))],
            ["e2e CPU µs/span, machine", .. r.Rounds.Select(x => F(x.EndToEnd.Cpu.Machine))],
            ["e2e machine busy", .. r.Rounds.Select(x => P(x.EndToEnd.Cpu.MachineBusy))],
            ["e2e KiB allocated/span", .. r.Rounds.Select(x => F(x.EndToEnd.Gc.AllocatedBytes / 1024.0 / x.EndToEnd.Acknowledged))],
            ["e2e GC pause ms (gen2 GCs)", .. r.Rounds.Select(x => $"{N(x.EndToEnd.Gc.Pause.TotalMilliseconds)} ({x.EndToEnd.Gc.Gen2Collections})")],
        ]);

        if (r.Profile is { } profile)
        {
            output.WriteLine();
            Rows(output, ["ingest step, one connection", "wall µs/span", "share", "process CPU µs/span"],
                [.. profile.Select(p => new[] { p.Stage, F(p.MicrosecondsPerSpan), P(p.Share), F(p.ProcessCpuMicrosecondsPerSpan) })]);
        }
    }

    private static void Rows(TextWriter output, string[] header, string[][] rows)
    {
        var all = rows.Prepend(header).ToArray();
        var widths = header.Select((_, c) => all.Max(row => row[c].Length)).ToArray();
        foreach (var row in all)
        {
            // First column left-aligned, numbers right-aligned.
            var cells = row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]));
            output.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }

    private static string P(double share) => share.ToString("P0", CultureInfo.InvariantCulture);

    private static string Pass(bool ok) => ok ? "PASS" : "FAIL";

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
