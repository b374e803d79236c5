using System.Globalization;
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

        await SpanLoad.StoreAsync(collector.Ingest, spans, log);

        // What autovacuum does on a live store, done now so the run does not depend on when it wakes:
        // statistics for the planner and the GIN pending lists merged into the indexes.
        await SpanTable.VacuumAnalyzeAsync(database, "spans");
        var samples = await SamplesAsync(database, queries + 50);
        log.WriteLine($"{await ScalarAsync(database, "SELECT count(*) FROM spans"):N0} spans stored; {samples.Count} sampled traces to search for");
        log.WriteLine("Plan of the order-id search:");
        log.WriteLine(await ExplainAsync(collector.Services.GetRequiredService<TraceStore>(), samples[0].OrderId));

        var baseline = new TimedQuery<Sample>("trace by id (baseline)", s => $"/api/v1/traces/{s.TraceId}");
        TimedQuery<Sample>[] kinds =
        [
            new("attribute, ~1 match: /api/v1/traces?attr.app.order_id=…", s => $"/api/v1/traces?attr.app.order_id={s.OrderId}"),
            new("attribute, ~1 match: /jaeger/api/traces?service=…&tags={app.order_id}", s => $"/jaeger/api/traces?service={s.Service}&tags=" + Uri.EscapeDataString($"{{\"app.order_id\":\"{s.OrderId}\"}}")),
            // 500 tenants (SpanGenerator): each value is on about spans / 500 spans.
            new($"attribute, ~{spans / 500:N0} matches: /api/v1/traces?attr.app.tenant_id=… (limit 20)", s => $"/api/v1/traces?attr.app.tenant_id={s.TenantId}"),
        ];

        var results = await QueryTiming.TimeEachAsync(collector.Query, kinds, baseline, samples, queries, log);

        var output = Console.Out;
        output.WriteLine($"Collector query: {spans:N0} spans stored, {queries} timed queries per kind (after 50 untimed), each interleaved with the baseline, " +
            $"PostgreSQL {postgres.Kind} ({(durable ? "fsync on" : "fsync off")}), {Environment.ProcessorCount} cores");
        output.WriteLine();
        QueryTiming.WriteTable(output, results);
        return 0;
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

    private static async Task<long> ScalarAsync(string database, string sql)
    {
        await using var conn = new NpgsqlConnection(database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
