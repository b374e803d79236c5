using System.Globalization;
using Npgsql;
using Observability.Testing;

namespace Observability.Bench;

/// <summary>
/// Storage benchmark (bench/storage.sh): stores the same N generated spans through a real collector twice, once
/// with the attribute index off (the default) and once on, each in a fresh database, and prints the bytes the
/// spans take on disk (table, TOAST, each index) per span and per million spans, with the ingest rate and CPU of
/// each run: the figures docs/operations.md sizes a deployment from.
/// </summary>
internal static class StorageBench
{
    public const string Usage = """
        Usage: bench/storage.sh [--spans N] [--durable]
          --spans N    spans stored with each setting (default 1000000)
          --durable    PostgreSQL with fsync and synchronous_commit on (default: off, as the ingest bench)
        """;

    private const int Chunk = 100_000;
    private const int SpansPerRequest = 500;

    private sealed record Run(bool AttributeIndex, long Spans, long OtlpBytes, long TimedSpans, TimeSpan Ingest, CpuUse Cpu, TimeSpan PostgresCpu, long TableBytes, IReadOnlyList<(string Index, long Bytes)> Indexes, long DatabaseBytes)
    {
        public long IndexBytes => Indexes.Sum(i => i.Bytes);

        public long TotalBytes => TableBytes + IndexBytes;
    }

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var spans = 1_000_000;
        var durable = false;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--spans": spans = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--durable": durable = true; break;
                default:
                    await Console.Error.WriteLineAsync($"unknown argument \"{args[i]}\"{Environment.NewLine}{Usage}");
                    return 2;
            }
        }

        await using var postgres = await PostgresServer.StartAsync(durable);
        var runs = new List<Run>();
        foreach (var attributeIndex in new[] { false, true })
        {
            runs.Add(await StoreAndMeasureAsync(postgres, spans, attributeIndex));
        }

        var output = Console.Out;
        output.WriteLine($"Collector storage: {spans:N0} spans stored with each setting (SpanGenerator, {SpansPerRequest} per request, 8 clients, collector defaults), " +
            $"then VACUUM ANALYZE; rates and CPU over all chunks but the first (warm-up); PostgreSQL {postgres.Kind} ({(durable ? "fsync on" : "fsync off")}), {Environment.ProcessorCount} cores, " +
            $"load average at the end {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        output.WriteLine();
        output.WriteLine("| AttributeIndex | spans stored | OTLP bytes/span | table + TOAST bytes/span | index bytes/span | total bytes/span | **MiB per million spans** | ingest spans/s | collector + load client CPU µs/span | PostgreSQL CPU µs/span | machine CPU µs/span (busy) |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in runs)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(r.AttributeIndex ? "on" : "off")} | {r.Spans:N0} | {(double)r.OtlpBytes / r.Spans:0} | {(double)r.TableBytes / r.Spans:0} | {(double)r.IndexBytes / r.Spans:0} | {(double)r.TotalBytes / r.Spans:0} | " +
                $"**{PerMillion(r.TotalBytes, r.Spans):0}** | {r.TimedSpans / r.Ingest.TotalSeconds:N0} | {r.Cpu.Process.TotalMicroseconds / r.TimedSpans:0.0} | {r.PostgresCpu.TotalMicroseconds / r.TimedSpans:0.0} | {r.Cpu.Machine.TotalMicroseconds / r.TimedSpans:0.0} ({r.Cpu.MachineBusy:P0}) |"));
        }

        // What one core of each side takes, from the CPU time each really used (not the wall clock, which other
        // load on a shared machine stretches).
        output.WriteLine();
        foreach (var r in runs)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"AttributeIndex {(r.AttributeIndex ? "on" : "off")}: one core of collector (with the load client) per {r.TimedSpans / r.Cpu.Process.TotalSeconds:N0} spans/s; one core of PostgreSQL per {r.TimedSpans / r.PostgresCpu.TotalSeconds:N0} spans/s"));
        }

        output.WriteLine();
        output.WriteLine("| MiB per million spans | " + string.Join(" | ", runs.Select(r => $"AttributeIndex {(r.AttributeIndex ? "on" : "off")}")) + " |");
        output.WriteLine("| --- | " + string.Join(" | ", runs.Select(_ => "---:")) + " |");
        output.WriteLine("| table + TOAST | " + string.Join(" | ", runs.Select(r => F(PerMillion(r.TableBytes, r.Spans)))) + " |");
        foreach (var index in runs.SelectMany(r => r.Indexes.Select(i => i.Index)).Distinct())
        {
            output.WriteLine($"| index `{index}` | " + string.Join(" | ", runs.Select(r => r.Indexes.FirstOrDefault(i => i.Index == index) is { Index: not null } i ? F(PerMillion(i.Bytes, r.Spans)) : "—")) + " |");
        }

        output.WriteLine("| **all of `spans`** | " + string.Join(" | ", runs.Select(r => $"**{F(PerMillion(r.TotalBytes, r.Spans))}**")) + " |");
        output.WriteLine("| whole database (`pg_database_size`) | " + string.Join(" | ", runs.Select(r => F(PerMillion(r.DatabaseBytes, r.Spans)))) + " |");
        output.WriteLine("| OTLP/protobuf request bodies | " + string.Join(" | ", runs.Select(r => F(PerMillion(r.OtlpBytes, r.Spans)))) + " |");
        return 0;
    }

    private static double PerMillion(long bytes, long spans) => bytes / (double)spans * 1_000_000 / (1024 * 1024);

    private static string F(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);

    private static async Task<Run> StoreAndMeasureAsync(PostgresServer postgres, int spans, bool attributeIndex)
    {
        var log = Console.Error;
        var database = await postgres.CreateDatabaseAsync(attributeIndex ? "bench_storage_index" : "bench_storage");
        long otlpBytes = 0, stored = 0, timed = 0;
        var ingest = TimeSpan.Zero;
        var cpu = default(CpuUse);
        var postgresCpu = TimeSpan.Zero;
        var cluster = await PostgresCpu.ForAsync(database);
        await using (var collector = await CollectorRunner.StartAsync(database, o => o.AttributeIndex = attributeIndex))
        {
            for (var sent = 0; sent < spans; sent += Chunk)
            {
                // The same seeds for both settings: both store the same spans. A seed per chunk, since a repeated
                // seed would repeat ids, which ingest drops as retries.
                var payloads = SpanGenerator.Generate(Math.Min(Chunk, spans - sent), SpansPerRequest, seed: 42 + sent / Chunk);
                otlpBytes += payloads.Sum(p => (long)p.Body.Length);
                var before = CpuUse.Now();
                var postgresBefore = cluster.Now();
                var result = await EndToEndLoad.RunAsync(collector.Ingest, payloads, clients: 8);
                stored += result.AcknowledgedSpans;
                // The first chunk warms the collector up (JIT, pools, GC sizing): timed only when it is all there is.
                if (sent > 0 || spans <= Chunk)
                {
                    cpu += CpuUse.Now() - before;
                    postgresCpu += cluster.Now() - postgresBefore;
                    ingest += result.Elapsed;
                    timed += result.AcknowledgedSpans;
                }

                log.WriteLine($"AttributeIndex {(attributeIndex ? "on" : "off")}: stored {stored:N0} spans ({result.SpansPerSecond:N0} spans/s, {result.Retries} retries)");
            }
        }

        // What autovacuum does on a live store, done now so the sizes do not depend on when it wakes: the
        // visibility map, statistics, and the GIN pending lists merged into the indexes.
        await using var conn = new NpgsqlConnection(database);
        await conn.OpenAsync();
        await using (var vacuum = new NpgsqlCommand("VACUUM ANALYZE spans", conn) { CommandTimeout = 0 })
        {
            await vacuum.ExecuteNonQueryAsync();
        }

        var rows = await ScalarAsync(conn, "SELECT count(*) FROM spans");
        if (rows != stored)
        {
            throw new InvalidOperationException($"{stored:N0} spans acknowledged but {rows:N0} stored");
        }

        // A partitioned table has no storage of its own: add up its day partitions (pg_partition_tree).
        var table = await ScalarAsync(conn, "SELECT sum(pg_table_size(relid))::bigint FROM pg_partition_tree('spans') WHERE isleaf");
        var indexes = new List<(string, long)>();
        await using (var cmd = new NpgsqlCommand(
            "SELECT i.indexrelid::regclass::text, (SELECT sum(pg_relation_size(t.relid))::bigint FROM pg_partition_tree(i.indexrelid) t WHERE t.isleaf) " +
            "FROM pg_index i WHERE i.indrelid = 'spans'::regclass ORDER BY 1", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                indexes.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }

        var databaseBytes = await ScalarAsync(conn, "SELECT pg_database_size(current_database())");
        return new Run(attributeIndex, stored, otlpBytes, timed, ingest, cpu, postgresCpu, table, indexes, databaseBytes);
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
