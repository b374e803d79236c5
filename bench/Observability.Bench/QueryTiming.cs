using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Observability.Bench;

/// <summary>A kind of query in a query benchmark: its name in the table and its request path for a sample.</summary>
internal sealed record TimedQuery<T>(string Name, Func<T, string> Path);

/// <summary>Percentiles of one kind of query and of the baseline it was interleaved with, in milliseconds.</summary>
internal sealed record QueryTimes(string Name, double P50, double P99, double BaseP50, double BaseP99);

/// <summary>
/// Times queries through the collector's HTTP API the way the query benchmarks do: each kind interleaved with a
/// baseline on the same sample (the first of the pair alternating), the first samples untimed, every answer checked.
/// </summary>
internal static class QueryTiming
{
    /// <summary>Times each of <paramref name="kinds"/> in turn (<see cref="TimeInterleavedAsync"/>), logging each result as it comes.</summary>
    public static async Task<List<QueryTimes>> TimeEachAsync<T>(HttpClient client, IEnumerable<TimedQuery<T>> kinds, TimedQuery<T> baseline, IReadOnlyList<T> samples, int queries, TextWriter log)
    {
        var results = new List<QueryTimes>();
        foreach (var kind in kinds)
        {
            var r = await TimeInterleavedAsync(client, kind, baseline, samples, queries);
            results.Add(r);
            log.WriteLine($"{kind.Name}: p50 {r.P50:N2} ms, p99 {r.P99:N2} ms");
        }

        return results;
    }

    /// <summary>Runs every sample; the last <paramref name="queries"/> are timed, the ones before them warm up.</summary>
    public static async Task<QueryTimes> TimeInterleavedAsync<T>(HttpClient client, TimedQuery<T> kind, TimedQuery<T> baseline, IReadOnlyList<T> samples, int queries)
    {
        var times = new List<double>(queries);
        var baseTimes = new List<double>(queries);
        for (var i = 0; i < samples.Count; i++)
        {
            var timed = i >= samples.Count - queries;
            var s = samples[i];
            // Alternate which goes first: neither always finds the other's pages just read.
            var (first, second) = i % 2 == 0 ? (kind, baseline) : (baseline, kind);
            var a = await TimeAsync(client, first.Path(s));
            var b = await TimeAsync(client, second.Path(s));
            if (timed)
            {
                (first == kind ? times : baseTimes).Add(a);
                (second == kind ? times : baseTimes).Add(b);
            }
        }

        return new QueryTimes(kind.Name, Percentile(times, 0.50), Percentile(times, 0.99), Percentile(baseTimes, 0.50), Percentile(baseTimes, 0.99));
    }

    /// <summary>Milliseconds from request sent to body read.</summary>
    /// <exception cref="InvalidOperationException">An answer other than 200, or an empty one: it would time the wrong thing.</exception>
    public static async Task<double> TimeAsync(HttpClient client, string path)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        // A query that found nothing would be timing the wrong thing: every sample exists.
        if (response.StatusCode != HttpStatusCode.OK || body.Length <= 2
            || body.Contains("\"items\":[]", StringComparison.Ordinal) || body.Contains("\"data\":[]", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode} with {body[..Math.Min(body.Length, 300)]}");
        }

        return elapsed;
    }

    /// <summary>The nearest-rank percentile.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>The Markdown table docs/benchmarks.md shows.</summary>
    public static void WriteTable(TextWriter output, IEnumerable<QueryTimes> results)
    {
        output.WriteLine("| query (through the HTTP API) | p50 ms | p99 ms | baseline p50 ms | baseline p99 ms | p50 ratio | p99 ratio |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in results)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.P50:0.00} | {r.P99:0.00} | {r.BaseP50:0.00} | {r.BaseP99:0.00} | {r.P50 / r.BaseP50:0.00} | {r.P99 / r.BaseP99:0.00} |"));
        }
    }
}
