using System.Globalization;
using System.Text.Json;
using Npgsql;
using Observability.Testing;

namespace Observability.Bench;

/// <summary>
/// Analysis benchmark (bench/analysis.sh): stores a day of N generated spans from 50 functions (2 or 3 versions each,
/// cold starts with their records, errors with failure snapshots) through a real collector's ingest path, then times the
/// analysis routes the web UI and obs call, each interleaved with the trace-by-id baseline as <see cref="QueryBench"/>
/// does. Prints p50 and p99 per route and their ratio to the baseline, then the plans of one call of each route.
/// </summary>
internal static class AnalysisBench
{
    public const string Usage = """
        Usage: bench/analysis.sh [--spans N] [--queries N] [--durable] [--hold-while PATH]
          --spans N          spans stored before the queries, over the last 24 hours (default 1000000)
          --queries N        timed queries of each route, after 20 untimed ones (default 200)
          --durable          PostgreSQL with fsync and synchronous_commit on (default: off, as the ingest bench)
          --hold-while PATH  at the end, keep the cluster running (its connection string is printed) while PATH
                             exists, to try plans and indexes on the stored data by hand
        """;

    private const int WarmUp = 20;

    private sealed record Sample(string TraceId, string Function, string Version, string Fingerprint, string SnapshotId);

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        int spans = 1_000_000, queries = 200;
        var durable = false;
        string? hold = null;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--spans": spans = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--queries": queries = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--durable": durable = true; break;
                case "--hold-while": hold = args[++i]; break;
                default:
                    await Console.Error.WriteLineAsync($"unknown argument \"{args[i]}\"{Environment.NewLine}{Usage}");
                    return 2;
            }
        }

        var log = Console.Error;
        await using var postgres = await PostgresServer.StartAsync(durable);
        var database = await postgres.CreateDatabaseAsync("bench_analysis");
        await using var collector = await CollectorRunner.StartAsync(database);

        // The routes are asked about all of it: from a window before the first span generated, to now.
        var workload = Workload.Analysis;
        var start = Uri.EscapeDataString((DateTime.UtcNow - workload.Window - TimeSpan.FromMinutes(1)).ToString("O", CultureInfo.InvariantCulture));
        var failed = new List<FailedInvocation>();
        await SpanLoad.StoreAsync(collector.Ingest, spans, log, workload, failed);
        log.WriteLine($"stored {await SnapshotLoad.StoreAsync(collector.Ingest, failed):N0} failure snapshots");
        await SpanTable.VacuumAnalyzeAsync(database, "spans");
        await SpanTable.VacuumAnalyzeAsync(database, "logs");

        var stored = await Sql.ScalarAsync<string>(database, """
            SELECT format('%s spans: %s invocations (%s cold, %s warm-up pings, %s failed), %s cold-start records; %s failure snapshots; %s function versions',
                (SELECT count(*) FROM spans), (SELECT count(*) FROM spans WHERE kind = 2), (SELECT count(*) FROM spans WHERE kind = 2 AND faas_coldstart),
                (SELECT count(*) FROM spans WHERE kind = 2 AND warmup), (SELECT count(*) FROM spans WHERE kind = 2 AND status_code = 2),
                (SELECT count(*) FROM spans WHERE name = 'faas.coldstart'), (SELECT count(*) FROM logs WHERE event_name = 'obs.failure_snapshot'),
                (SELECT count(*) FROM functions))
            """);
        log.WriteLine(stored);
        var samples = await SamplesAsync(collector.Query, database, start, queries + WarmUp);
        log.WriteLine($"{samples.Count} samples: {samples.Select(s => s.Fingerprint).Distinct().Count()} failure groups, {samples.Select(s => s.Function + s.Version).Distinct().Count()} function versions");

        var baseline = new TimedQuery<Sample>("trace by id (baseline)", s => $"/api/v1/traces/{s.TraceId}");
        // As the web UI and obs ask (src/Observability.Web/src/pages, src/Observability.Cli/Commands), over the whole day
        // where they let the user pick the range, with their own default where they do not.
        TimedQuery<Sample>[] routes =
        [
            new("functions over the day, a page of 20 (`obs functions --since 24h`): `/api/v1/functions?start=…`", s => $"/api/v1/functions?start={start}"),
            new("functions over the last hour, every version (the cold-starts page's picker): `/api/v1/functions?limit=500`", s => "/api/v1/functions?limit=500"),
            new("cold starts of every version of one function over the day (the cold-starts page): `/api/v1/coldstarts?function=…&start=…&buckets=48&limit=100`",
                s => $"/api/v1/coldstarts?function={s.Function}&start={start}&buckets=48&limit=100"),
            new("version comparison, latest against the one before (default range, 7 days): `/api/v1/coldstarts/compare?function=…`", s => $"/api/v1/coldstarts/compare?function={s.Function}"),
            new("failure groups over the day, a page of 50: `/api/v1/failures?start=…&limit=50`", s => $"/api/v1/failures?start={start}&limit=50"),
            new("one group's snapshots over the day, a page of 50: `/api/v1/failures/{fingerprint}?start=…&limit=50`", s => $"/api/v1/failures/{s.Fingerprint}?start={start}&limit=50"),
            new("snapshot detail: `/api/v1/snapshots/{id}`", s => $"/api/v1/snapshots/{s.SnapshotId}"),
        ];

        var results = await QueryTiming.TimeEachAsync(collector.Query, routes, baseline, samples, queries, log);

        var output = Console.Out;
        output.WriteLine($"Collector analysis: {stored}. {queries} timed queries per route (after {WarmUp} untimed), each interleaved with the baseline, " +
            $"PostgreSQL {postgres.Kind} ({(durable ? "fsync on" : "fsync off")}), {Environment.ProcessorCount} cores");
        output.WriteLine();
        QueryTiming.WriteTable(output, results);
        output.WriteLine();
        // Not timed: the web UI's functions page (100 a page) with a day picked, once, for its plan.
        (string, string) once = ("functions over the day, the web UI's page of 100 (called once, not timed): `/api/v1/functions?start=…&limit=100`", $"/api/v1/functions?start={start}&limit=100");
        await RoutePlans.WriteAsync(output, postgres, database, [.. routes.Zip(results).OrderByDescending(x => x.Second.P50).Select(x => (x.First.Name, x.First.Path(samples[0]))), once]);
        if (hold is not null)
        {
            log.WriteLine($"{database} is kept while {hold} exists");
            using var everySecond = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (File.Exists(hold) && await everySecond.WaitForNextTickAsync())
            {
            }
        }

        return 0;
    }

    /// <summary>
    /// Per sample: a root span's trace (baseline), a function version, a failure group and a snapshot, each list drawn at
    /// random and repeated when shorter than <paramref name="count"/>. Groups come from the API, which computes them.
    /// </summary>
    private static async Task<IReadOnlyList<Sample>> SamplesAsync(HttpClient api, string database, string start, int count)
    {
        var traces = await ColumnAsync(database, "SELECT encode(trace_id, 'hex') FROM spans WHERE parent_span_id IS NULL AND kind = 2 ORDER BY random() LIMIT $1", count);
        // Functions with two versions stored at least: the comparison needs one before the newest (a small --spans may
        // leave a function with one).
        var versions = await ColumnAsync(
            database,
            "SELECT function_name || ' ' || function_version FROM functions WHERE function_name IN (SELECT function_name FROM functions GROUP BY 1 HAVING count(*) > 1) ORDER BY random() LIMIT $1",
            count);
        var snapshots = await ColumnAsync(database, "SELECT encode(log_id, 'hex') FROM logs WHERE event_name = 'obs.failure_snapshot' ORDER BY random() LIMIT $1", count);
        using var groups = JsonDocument.Parse(await api.GetStringAsync(new Uri($"/api/v1/failures?start={start}&limit=1000", UriKind.Relative)));
        var fingerprints = groups.RootElement.GetProperty("items").EnumerateArray().Select(g => g.GetProperty("fingerprint").GetString()!).ToList();
        if (traces.Count == 0 || versions.Count == 0 || snapshots.Count == 0 || fingerprints.Count == 0)
        {
            throw new InvalidOperationException($"nothing to query: {traces.Count} traces, {versions.Count} function versions, {snapshots.Count} snapshots, {fingerprints.Count} failure groups stored");
        }

        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var version = versions[i % versions.Count].Split(' ');
            return new Sample(traces[i % traces.Count], version[0], version[1], fingerprints[i % fingerprints.Count], snapshots[i % snapshots.Count]);
        })];
    }

    private static async Task<List<string>> ColumnAsync(string database, string sql, int limit)
    {
        await using var conn = new NpgsqlConnection(database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        cmd.Parameters.Add(new NpgsqlParameter { Value = limit });
        var values = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
