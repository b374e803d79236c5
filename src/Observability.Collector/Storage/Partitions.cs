using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Observability.Collector.Storage;

/// <summary>
/// Day partitions of spans and logs: created ahead of need (and on demand for late data), dropped
/// whole when they fall out of retention. Names are <c>spans_pYYYYMMDD</c> / <c>logs_pYYYYMMDD</c>, UTC days.
/// </summary>
internal sealed partial class Partitions(NpgsqlDataSource dataSource, ILogger<Partitions> logger)
{
    private const long PartitionLockId = 0x0b5_9a27;
    private const long DropLockId = 0x0b5_9a28;
    private static readonly string[] Tables = ["spans", "logs"];
    private readonly ConcurrentDictionary<DateOnly, bool> _known = new();

    public static string Name(string table, DateOnly day) => $"{table}_p{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}";

    /// <summary>Makes sure every day in <paramref name="days"/> has its partitions. Cheap when they are known.</summary>
    public async Task EnsureAsync(IEnumerable<DateOnly> days, CancellationToken ct)
    {
        List<DateOnly>? missing = null;
        foreach (var day in days)
        {
            if (!_known.ContainsKey(day))
            {
                (missing ??= []).Add(day);
            }
        }

        if (missing is null)
        {
            return;
        }

        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Replicas creating the same day at once would collide in the catalog: take turns.
        await using (var lockCmd = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({PartitionLockId})", conn, tx))
        {
            await lockCmd.ExecuteNonQueryAsync(ct);
        }

        foreach (var day in missing.Distinct())
        {
            foreach (var table in Tables)
            {
                var from = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                var to = day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                await using var create = new NpgsqlCommand(
                    $"CREATE TABLE IF NOT EXISTS {Name(table, day)} PARTITION OF {table} FOR VALUES FROM ('{from} 00:00:00+00') TO ('{to} 00:00:00+00')",
                    conn,
                    tx);
                await create.ExecuteNonQueryAsync(ct);
            }
        }

        await tx.CommitAsync(ct);
        foreach (var day in missing)
        {
            _known[day] = true;
        }
    }

    /// <summary>
    /// Drops the partitions of days wholly before <paramref name="oldestKept"/>. Each is first detached CONCURRENTLY:
    /// that locks the parent in SHARE UPDATE EXCLUSIVE mode, which neither ingest nor queries wait for (a plain DROP
    /// locks the parent ACCESS EXCLUSIVE, and ingest would queue behind it while it waits for the longest query),
    /// and waits for the queries still reading the partition. The detached table is then dropped on its own.
    /// Replicas take turns (a session advisory lock); a detach left pending, or a table left detached, by a pass that
    /// was cut off is finished by the next. Returns the tables dropped.
    /// </summary>
    public async Task<IReadOnlyList<string>> DropBeforeAsync(DateOnly oldestKept, CancellationToken ct)
    {
        var dropped = new List<string>();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await Execute(conn, $"SELECT pg_advisory_lock({DropLockId})", ct);
        try
        {
            foreach (var (name, parent, pending) in await OurTablesAsync(conn, ct))
            {
                var suffix = name[(name.LastIndexOf("_p", StringComparison.Ordinal) + 2)..];
                if (!DateOnly.TryParseExact(suffix, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) || day >= oldestKept)
                {
                    continue;
                }

                if (parent is not null)
                {
                    await Execute(conn, $"ALTER TABLE {parent} DETACH PARTITION {name} {(pending ? "FINALIZE" : "CONCURRENTLY")}", ct);
                }

                await Execute(conn, $"DROP TABLE IF EXISTS {name}", ct);
                _known.TryRemove(day, out _);
                dropped.Add(name);
                LogDropped(name);
            }
        }
        finally
        {
            await Execute(conn, $"SELECT pg_advisory_unlock({DropLockId})", CancellationToken.None);
        }

        return dropped;
    }

    /// <summary>Every day table of ours, attached or not: its name, its parent while attached, and whether a detach of it is pending.</summary>
    private static async Task<List<(string Name, string? Parent, bool Pending)>> OurTablesAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var tables = new List<(string, string?, bool)>();
        await using var list = new NpgsqlCommand(
            """
            SELECT c.relname, p.relname, coalesce(i.inhdetachpending, false)
            FROM pg_class c
            LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
            LEFT JOIN pg_class p ON p.oid = i.inhparent
            WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace AND c.relname ~ '^(spans|logs)_p[0-9]{8}$'
            """,
            conn);
        await using var reader = await list.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            tables.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetBoolean(2)));
        }

        return tables;
    }

    private static async Task Execute(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, conn);
        await command.ExecuteNonQueryAsync(ct);
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Dropped partition {Partition}: older than retention")]
    private partial void LogDropped(string partition);
}
