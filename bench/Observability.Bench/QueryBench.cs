using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Observability.Collector.Query;
using Observability.Testing;

namespace Observability.Bench;

/// <summary>
/// Query benchmark (bench/query.sh): stores N generated spans through a real collector, then times searches
/// through its HTTP API, each kind interleaved with the baseline (the same trace fetched by id) so that drift on
/// a shared machine falls on both. Prints p50 and p99 per kind and their ratio to the baseline.
/// </summary>
internal static class QueryBench
{
    public const string Usage = """
        Usage: bench/query.sh [--spans N] [--queries N] [--durable]
          --spans N    spans stored before the queries (default 1000000)
          --queries N  timed queries of each kind, after 50 untimed ones (default 500)
          --durable    PostgreSQL with fsync and synchronous_commit on (default: off, as the ingest bench)
        """;

    private sealed record Sample(string TraceId, string OrderId, string TenantId, string Service);

    private sealed record Kind(string Name, Func<Sample, string> Path);

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        int spans = 1_000_000, queries = 500;
        var durable = false;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--spans": spans = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--queries": queries = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--durable": durable = true; break;
                default:
                    await Console.Error.WriteLineAsync($"unknown argument \"{args[i]}\"{Environment.NewLine}{Usage}");
                    return 2;
            }
        }

        var log = Console.Error;
        await using var postgres = await PostgresServer.StartAsync(durable);
        var database = await postgres.CreateDatabaseAsync("bench_query");
        await using var collector = await CollectorRunner.StartAsync(database, o => o.AttributeIndex = true); // what is measured: searches the index serves

        var load = Stopwatch.StartNew();
        const int Chunk = 100_000;
        for (var stored = 0; stored < spans; stored += Chunk)
        {
            // A seed per chunk: the same seed would repeat trace and span ids, which ingest drops as retries.
            var payloads = SpanGenerator.Generate(Math.Min(Chunk, spans - stored), 500, seed: 42 + stored / Chunk);
            await EndToEndLoad.RunAsync(collector.Ingest, payloads, clients: 8);
            log.WriteLine($"stored {stored + payloads.Sum(p => p.Spans):N0} spans ({load.Elapsed.TotalSeconds:N0} s)");
        }

        // What autovacuum does on a live store, done now so the run does not depend on when it wakes:
        // statistics for the planner and the GIN pending lists merged into the indexes.
        await ExecuteAsync(database, "VACUUM ANALYZE spans");
        var samples = await SamplesAsync(database, queries + 50);
        log.WriteLine($"{await ScalarAsync(database, "SELECT count(*) FROM spans"):N0} spans stored; {samples.Count} sampled traces to search for");
        log.WriteLine("Plan of the order-id search:");
        log.WriteLine(await ExplainAsync(collector.Services.GetRequiredService<TraceStore>(), samples[0].OrderId));

        var baseline = new Kind("trace by id (baseline)", s => $"/api/v1/traces/{s.TraceId}");
        Kind[] kinds =
        [
            new("attribute, ~1 match: /api/v1/traces?attr.app.order_id=…", s => $"/api/v1/traces?attr.app.order_id={s.OrderId}"),
            new("attribute, ~1 match: /jaeger/api/traces?service=…&tags={app.order_id}", s => $"/jaeger/api/traces?service={s.Service}&tags=" + Uri.EscapeDataString($"{{\"app.order_id\":\"{s.OrderId}\"}}")),
            // 500 tenants (SpanGenerator): each value is on about spans / 500 spans.
            new($"attribute, ~{spans / 500:N0} matches: /api/v1/traces?attr.app.tenant_id=… (limit 20)", s => $"/api/v1/traces?attr.app.tenant_id={s.TenantId}"),
        ];

        var results = new List<(string Name, double P50, double P99, double BaseP50, double BaseP99)>();
        foreach (var kind in kinds)
        {
            var (times, baseTimes) = await TimeInterleavedAsync(collector.Query, kind, baseline, samples, queries);
            results.Add((kind.Name, Percentile(times, 0.50), Percentile(times, 0.99), Percentile(baseTimes, 0.50), Percentile(baseTimes, 0.99)));
            log.WriteLine($"{kind.Name}: p50 {Percentile(times, 0.5):N2} ms, p99 {Percentile(times, 0.99):N2} ms");
        }

        var output = Console.Out;
        output.WriteLine($"Collector query: {spans:N0} spans stored, {queries} timed queries per kind (after 50 untimed), each interleaved with the baseline, " +
            $"PostgreSQL {postgres.Kind} ({(durable ? "fsync on" : "fsync off")}), {Environment.ProcessorCount} cores");
        output.WriteLine();
        output.WriteLine("| query (through the HTTP API) | p50 ms | p99 ms | baseline p50 ms | baseline p99 ms | p50 ratio | p99 ratio |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in results)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.P50:0.00} | {r.P99:0.00} | {r.BaseP50:0.00} | {r.BaseP99:0.00} | {r.P50 / r.BaseP50:0.00} | {r.P99 / r.BaseP99:0.00} |"));
        }

        return 0;
    }

    private static async Task<(List<double> Kind, List<double> Baseline)> TimeInterleavedAsync(HttpClient client, Kind kind, Kind baseline, IReadOnlyList<Sample> samples, int queries)
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

        return (times, baseTimes);
    }

    private static async Task<double> TimeAsync(HttpClient client, string path)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        // A search that found nothing would be timing the wrong thing: every sample exists.
        if (response.StatusCode != HttpStatusCode.OK || body.Contains("\"items\":[]", StringComparison.Ordinal) || body.Contains("\"data\":[]", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode} with {body[..Math.Min(body.Length, 300)]}");
        }

        return elapsed;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static async Task<IReadOnlyList<Sample>> SamplesAsync(string database, int count)
    {
        await using var conn = new NpgsqlConnection(database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "SELECT encode(trace_id, 'hex'), attributes->>'app.order_id', attributes->>'app.tenant_id', service_name FROM spans TABLESAMPLE BERNOULLI (1) " +
            "WHERE parent_span_id IS NULL ORDER BY random() LIMIT $1", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = count });
        var samples = new List<Sample>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            samples.Add(new Sample(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }

        return samples;
    }

    /// <summary>EXPLAIN ANALYZE of exactly the SQL the collector runs for an attribute search.</summary>
    private static async Task<string> ExplainAsync(TraceStore store, string orderId)
    {
        var now = DateTime.UtcNow;
        await using var cmd = store.FindTraceIdsCommand(new TraceQuery
        {
            Start = now.AddHours(-1),
            End = now,
            Attributes = new Dictionary<string, string> { ["app.order_id"] = orderId },
        });
        cmd.CommandText = "EXPLAIN (ANALYZE, COSTS OFF) " + cmd.CommandText;
        var lines = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static async Task ExecuteAsync(string database, string sql)
    {
        await using var conn = new NpgsqlConnection(database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(string database, string sql)
    {
        await using var conn = new NpgsqlConnection(database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
