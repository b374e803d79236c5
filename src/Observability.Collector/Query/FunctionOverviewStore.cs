using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace Observability.Collector.Query;

/// <summary>What happened to a function version within the range asked for; rates and counts add up adjusted counts.</summary>
public sealed record ApiFunctionRange(double Invocations, double Errors, double? ErrorRate, double ColdStarts, double? ColdStartRate, double WarmUpPings, double? P95LatencyMs);

/// <summary>The warm-up scheduler's pings of a function within the range, by outcome.</summary>
public sealed record ApiWarmUpPings(long Warm, long Cold, long Failed, DateTime? LastSent);

/// <summary>The warm-up scheduler's target for a function (warmup.targets), when the scheduler runs on this database.</summary>
public sealed record ApiWarmUp(string? Policy, int? Instances, int? BudgetPerHour, string? Url, string? Source, ApiWarmUpPings Pings);

/// <summary>
/// One function version: the inventory's totals since it was first seen (as before), what happened in the range,
/// its last invocation and how long it has been idle, and its warm-up target when there is one.
/// </summary>
public sealed record ApiFunctionOverview(
    string Name,
    string Version,
    DateTime FirstSeen,
    DateTime LastSeen,
    long Invocations,
    long Errors,
    long ColdStarts,
    long WarmUps,
    string[] Instances,
    ApiFunctionRange Range,
    DateTime? LastInvoked,
    double? IdleSeconds,
    ApiWarmUp? WarmUp);

/// <summary>
/// The functions list: a page of the inventory (by name, then version) with each version's numbers over a time
/// range read from its SERVER spans (percentiles weighted by adjusted count: docs/cold-start-analysis.md).
/// </summary>
public sealed class FunctionOverviewStore([FromKeyedServices(QueryDatabase.Key)] NpgsqlDataSource dataSource)
{
    internal const string Sql = """
        WITH page AS (
            SELECT * FROM functions
            WHERE $3::text IS NULL OR (function_name, function_version) > ($3::text, $4::text)
            ORDER BY function_name, function_version
            LIMIT $5)
        SELECT p.function_name, p.function_version, p.first_seen, p.last_seen,
               round(p.invocations)::bigint, round(p.errors)::bigint, round(p.cold_starts)::bigint, round(p.warmups)::bigint,
               coalesce((SELECT array_agg(i.instance ORDER BY i.last_seen DESC) FROM function_instances i
                         WHERE i.function_name = p.function_name AND i.function_version = p.function_version), '{}'),
               r.invocations, r.errors, r.cold, r.pings, r.last_invoked, q.p95
        FROM page p
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(s.adjusted_count) FILTER (WHERE NOT s.warmup), 0) AS invocations,
                   coalesce(sum(s.adjusted_count) FILTER (WHERE NOT s.warmup AND s.status_code = 2), 0) AS errors,
                   coalesce(sum(s.adjusted_count) FILTER (WHERE NOT s.warmup AND s.faas_coldstart), 0) AS cold,
                   coalesce(sum(s.adjusted_count) FILTER (WHERE s.warmup), 0) AS pings,
                   max(s.start_time) FILTER (WHERE NOT s.warmup) AS last_invoked
            FROM spans s
            WHERE s.function_name = p.function_name AND coalesce(s.function_version, '') = p.function_version
              AND s.kind = 2 AND s.start_time >= $1 AND s.start_time < $2) r
        CROSS JOIN LATERAL (
            SELECT min(w.d) FILTER (WHERE w.cum >= 0.95 * w.total) AS p95
            FROM (SELECT s.duration_ns AS d,
                         sum(s.adjusted_count) OVER (ORDER BY s.duration_ns) AS cum,
                         sum(s.adjusted_count) OVER () AS total
                  FROM spans s
                  WHERE s.function_name = p.function_name AND coalesce(s.function_version, '') = p.function_version
                    AND s.kind = 2 AND NOT s.warmup AND s.start_time >= $1 AND s.start_time < $2) w) q
        ORDER BY p.function_name, p.function_version
        """;

    private const string WarmUpSql = """
        SELECT t.function_name, t.policy, t.instances, t.budget_per_hour, t.url, t.source,
               count(pg.*) FILTER (WHERE pg.outcome = 'warm'), count(pg.*) FILTER (WHERE pg.outcome = 'cold'),
               count(pg.*) FILTER (WHERE pg.outcome = 'failed'), max(pg.sent_at)
        FROM warmup.targets t
        LEFT JOIN warmup.pings pg ON pg.function_name = t.function_name
             AND coalesce(pg.sent_at, pg.planned_at) >= $1 AND coalesce(pg.sent_at, pg.planned_at) < $2
        WHERE t.function_name = ANY($3)
        GROUP BY t.function_name, t.policy, t.instances, t.budget_per_hour, t.url, t.source
        """;

    public async Task<(IReadOnlyList<ApiFunctionOverview> Items, string? Next)> PageAsync(DateTime start, DateTime end, DateTime now, string[]? after, int limit, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = new List<ApiFunctionOverview>();
        await using (var cmd = new NpgsqlCommand(Sql, conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new NpgsqlParameter { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)after?[0] ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)after?[1] ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = limit + 1, NpgsqlDbType = NpgsqlDbType.Integer });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                double invocations = reader.GetDouble(9), errors = reader.GetDouble(10), cold = reader.GetDouble(11);
                DateTime? last = reader.IsDBNull(13) ? null : reader.GetDateTime(13);
                rows.Add(new ApiFunctionOverview(
                    reader.GetString(0), reader.GetString(1), reader.GetDateTime(2), reader.GetDateTime(3),
                    reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetFieldValue<string[]>(8),
                    new ApiFunctionRange(
                        invocations, errors, Ratio(errors, invocations), cold, Ratio(cold, invocations), reader.GetDouble(12),
                        reader.IsDBNull(14) ? null : reader.GetInt64(14) / 1e6),
                    last,
                    last is { } l ? Math.Max(0, (now - l).TotalSeconds) : null,
                    null));
            }
        }

        string? next = null;
        if (rows.Count > limit)
        {
            rows.RemoveAt(rows.Count - 1);
            next = PageCursor.Encode(rows[^1].Name, rows[^1].Version);
        }

        if (rows.Count > 0 && await WarmUpTablesExistAsync(conn, ct))
        {
            var targets = await WarmUpTargetsAsync(conn, start, end, [.. rows.Select(r => r.Name).Distinct()], ct);
            rows = [.. rows.Select(r => targets.TryGetValue(r.Name, out var w) ? r with { WarmUp = w } : r)];
        }

        return (rows, next);
    }

    /// <summary>The scheduler's tables exist only where it has run against this database (CONTRACTS.md §2).</summary>
    private static async Task<bool> WarmUpTablesExistAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT to_regclass('warmup.targets') IS NOT NULL AND to_regclass('warmup.pings') IS NOT NULL", conn);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task<Dictionary<string, ApiWarmUp>> WarmUpTargetsAsync(NpgsqlConnection conn, DateTime start, DateTime end, string[] names, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(WarmUpSql, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = names, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var result = new Dictionary<string, ApiWarmUp>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            int? Int(int i) => reader.IsDBNull(i) ? null : reader.GetInt32(i);
            result[reader.GetString(0)] = new ApiWarmUp(
                Text(1), Int(2), Int(3), Text(4), Text(5),
                new ApiWarmUpPings(reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.IsDBNull(9) ? null : reader.GetDateTime(9)));
        }

        return result;
    }

    internal static double? Ratio(double part, double whole) => whole > 0 ? part / whole : null;
}
