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

    /// <summary>Drops the partitions of days wholly before <paramref name="oldestKept"/>. Returns the tables dropped.</summary>
    public async Task<IReadOnlyList<string>> DropBeforeAsync(DateOnly oldestKept, CancellationToken ct)
    {
        var dropped = new List<string>();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var names = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY($1)", conn))
        {
            list.Parameters.Add(new() { Value = Tables });
            await using var reader = await list.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                names.Add(reader.GetString(0));
            }
        }

        foreach (var name in names)
        {
            var suffix = name[(name.LastIndexOf("_p", StringComparison.Ordinal) + 2)..];
            if (DateOnly.TryParseExact(suffix, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) && day < oldestKept)
            {
                await using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {name}", conn);
                await drop.ExecuteNonQueryAsync(ct);
                _known.TryRemove(day, out _);
                dropped.Add(name);
                LogDropped(name);
            }
        }

        return dropped;
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Dropped partition {Partition}: older than retention")]
    private partial void LogDropped(string partition);
}
