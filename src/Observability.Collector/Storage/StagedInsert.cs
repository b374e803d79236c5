using Npgsql;
using Observability.Core.Model;

namespace Observability.Collector.Storage;

/// <summary>
/// The duplicate-safe write: COPY into a temporary table, then INSERT … ON CONFLICT DO NOTHING into the
/// real one, returning which rows were new. Used only for batches that carry a retried request.
/// </summary>
internal static class StagedInsert
{
    public static async Task<IReadOnlyCollection<SpanRow>> SpansAsync(NpgsqlConnection conn, NpgsqlTransaction tx, List<SpanRow> spans)
    {
        if (spans.Count == 0)
        {
            return spans;
        }

        await ExecuteAsync(conn, tx, "CREATE TEMP TABLE IF NOT EXISTS spans_stage (LIKE spans) ON COMMIT DELETE ROWS");
        await RowCopy.CopySpansAsync(conn, "spans_stage", spans, CancellationToken.None);
        var inserted = new HashSet<(string, string)>();
        await using (var cmd = new NpgsqlCommand(
            $"INSERT INTO spans ({RowCopy.SpanColumns}) SELECT {RowCopy.SpanColumns} FROM spans_stage ON CONFLICT DO NOTHING RETURNING trace_id, span_id", conn, tx))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                inserted.Add((Convert.ToHexString(reader.GetFieldValue<byte[]>(0)), Convert.ToHexString(reader.GetFieldValue<byte[]>(1))));
            }
        }

        // A span twice in one batch is inserted once: take each new key once.
        var result = new List<SpanRow>(inserted.Count);
        foreach (var s in spans)
        {
            if (inserted.Remove((Convert.ToHexString(s.TraceId), Convert.ToHexString(s.SpanId))))
            {
                result.Add(s);
            }
        }

        return result;
    }

    public static async Task<int> LogsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, List<LogRow> logs)
    {
        if (logs.Count == 0)
        {
            return 0;
        }

        await ExecuteAsync(conn, tx, "CREATE TEMP TABLE IF NOT EXISTS logs_stage (LIKE logs) ON COMMIT DELETE ROWS");
        await RowCopy.CopyLogsAsync(conn, "logs_stage", logs, CancellationToken.None);
        return await ExecuteAsync(conn, tx, $"INSERT INTO logs ({RowCopy.LogColumns}) SELECT {RowCopy.LogColumns} FROM logs_stage ON CONFLICT DO NOTHING");
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        return await cmd.ExecuteNonQueryAsync();
    }
}
