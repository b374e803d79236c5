using Npgsql;

namespace Observability.Bench;

/// <summary>Rows stored in the spans table, and what a round checks about them.</summary>
internal sealed record StoredSpans(long Rows, long DistinctIds);

/// <summary>The spans table of a benchmark database: emptied before each round, counted after.</summary>
internal static class SpanTable
{
    /// <summary>Empties spans and flushes dirty pages, so every round starts from the same state.</summary>
    public static async Task ResetAsync(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("TRUNCATE spans; CHECKPOINT", conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<StoredSpans> CountAsync(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new StoredSpans(reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>
    /// What autovacuum does on a live store, done now so that a run does not depend on when it wakes: statistics for
    /// the planner, and the GIN pending lists merged into the indexes.
    /// </summary>
    public static async Task VacuumAnalyzeAsync(string connectionString, string table)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"VACUUM ANALYZE {table}", conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync();
    }
}
