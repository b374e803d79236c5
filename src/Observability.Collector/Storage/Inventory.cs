using Npgsql;
using Observability.Core.Model;

namespace Observability.Collector.Storage;

/// <summary>
/// Keeps the operations, functions and function_instances tables from the spans of a batch, in the
/// batch's own transaction, so the inventory counts exactly what was committed. Function counts add up each
/// span's adjusted count (what it stands for under sampling), as the RED metrics do; operations count stored
/// spans. Keys are upserted in sorted order so that two writers never lock the same rows in opposite orders.
/// </summary>
internal static class Inventory
{
    private const string UpsertOperations = """
        INSERT INTO operations AS o (service_name, span_name, span_kind, first_seen, last_seen, span_count)
        SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::timestamptz[], $5::timestamptz[], $6::bigint[])
        ON CONFLICT (service_name, span_name, span_kind) DO UPDATE SET
            first_seen = LEAST(o.first_seen, EXCLUDED.first_seen),
            last_seen = GREATEST(o.last_seen, EXCLUDED.last_seen),
            span_count = o.span_count + EXCLUDED.span_count
        """;

    private const string UpsertFunctions = """
        INSERT INTO functions AS f (function_name, function_version, first_seen, last_seen, invocations, errors, cold_starts, warmups)
        SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::float8[], $6::float8[], $7::float8[], $8::float8[])
        ON CONFLICT (function_name, function_version) DO UPDATE SET
            first_seen = LEAST(f.first_seen, EXCLUDED.first_seen),
            last_seen = GREATEST(f.last_seen, EXCLUDED.last_seen),
            invocations = f.invocations + EXCLUDED.invocations,
            errors = f.errors + EXCLUDED.errors,
            cold_starts = f.cold_starts + EXCLUDED.cold_starts,
            warmups = f.warmups + EXCLUDED.warmups
        """;

    private const string UpsertInstances = """
        INSERT INTO function_instances AS i (function_name, function_version, instance, first_seen, last_seen)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
        ON CONFLICT (function_name, function_version, instance) DO UPDATE SET
            first_seen = LEAST(i.first_seen, EXCLUDED.first_seen),
            last_seen = GREATEST(i.last_seen, EXCLUDED.last_seen)
        """;

    public static async Task UpsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyCollection<SpanRow> spans, CancellationToken ct)
    {
        if (spans.Count == 0)
        {
            return;
        }

        var operations = new SortedDictionary<(string, string, short), (DateTime First, DateTime Last, long Count)>();
        var functions = new SortedDictionary<(string, string), (DateTime First, DateTime Last, double Inv, double Err, double Cold, double Warm)>();
        var instances = new SortedDictionary<(string, string, string), (DateTime First, DateTime Last)>();
        foreach (var s in spans)
        {
            var opKey = (s.ServiceName, s.Name, s.Kind);
            operations[opKey] = operations.TryGetValue(opKey, out var op)
                ? (Min(op.First, s.StartTime), Max(op.Last, s.StartTime), op.Count + 1)
                : (s.StartTime, s.StartTime, 1);

            if (s.FunctionName is null)
            {
                continue;
            }

            var version = s.FunctionVersion ?? string.Empty;
            if (s.FaasInstance is not null)
            {
                var iKey = (s.FunctionName, version, s.FaasInstance);
                instances[iKey] = instances.TryGetValue(iKey, out var i) ? (Min(i.First, s.StartTime), Max(i.Last, s.StartTime)) : (s.StartTime, s.StartTime);
            }

            if (s.Kind != SpanKinds.Server)
            {
                continue;
            }

            var fKey = (s.FunctionName, version);
            var f = functions.TryGetValue(fKey, out var existing) ? existing : (s.StartTime, s.StartTime, 0.0, 0.0, 0.0, 0.0);
            var counted = s.WarmUp ? 0 : s.AdjustedCount;
            functions[fKey] = (
                Min(f.Item1, s.StartTime),
                Max(f.Item2, s.StartTime),
                f.Item3 + counted,
                f.Item4 + (s.IsError ? counted : 0),
                f.Item5 + (s.FaasColdStart == true ? counted : 0),
                f.Item6 + (s.WarmUp ? s.AdjustedCount : 0));
        }

        await using var batch = new NpgsqlBatch(conn, tx);
        batch.BatchCommands.Add(Command(
            UpsertOperations,
            operations.Keys.Select(k => k.Item1).ToArray(),
            operations.Keys.Select(k => k.Item2).ToArray(),
            operations.Keys.Select(k => k.Item3).ToArray(),
            operations.Values.Select(v => v.First).ToArray(),
            operations.Values.Select(v => v.Last).ToArray(),
            operations.Values.Select(v => v.Count).ToArray()));
        if (functions.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                UpsertFunctions,
                functions.Keys.Select(k => k.Item1).ToArray(),
                functions.Keys.Select(k => k.Item2).ToArray(),
                functions.Values.Select(v => v.First).ToArray(),
                functions.Values.Select(v => v.Last).ToArray(),
                functions.Values.Select(v => v.Inv).ToArray(),
                functions.Values.Select(v => v.Err).ToArray(),
                functions.Values.Select(v => v.Cold).ToArray(),
                functions.Values.Select(v => v.Warm).ToArray()));
        }

        if (instances.Count > 0)
        {
            batch.BatchCommands.Add(Command(
                UpsertInstances,
                instances.Keys.Select(k => k.Item1).ToArray(),
                instances.Keys.Select(k => k.Item2).ToArray(),
                instances.Keys.Select(k => k.Item3).ToArray(),
                instances.Values.Select(v => v.First).ToArray(),
                instances.Values.Select(v => v.Last).ToArray()));
        }

        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Removes the functions, instances and operations last seen before <paramref name="cutoff"/>: their spans
    /// went with the dropped partitions, so the inventory would otherwise list what no query can find, and grow
    /// with every instance and route ever seen. Returns the rows removed from each table.
    /// </summary>
    public static async Task<(int Functions, int Instances, int Operations)> RemoveNotSeenSinceAsync(NpgsqlDataSource dataSource, DateTime cutoff, CancellationToken ct)
    {
        await using var batch = dataSource.CreateBatch();
        foreach (var table in new[] { "functions", "function_instances", "operations" })
        {
            var command = new NpgsqlBatchCommand($"DELETE FROM {table} WHERE last_seen < $1");
            command.Parameters.Add(new NpgsqlParameter { Value = cutoff, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(ct);
        return (batch.BatchCommands[0].RecordsAffected, batch.BatchCommands[1].RecordsAffected, batch.BatchCommands[2].RecordsAffected);
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] arrays)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var array in arrays)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = array });
        }

        return command;
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
}
