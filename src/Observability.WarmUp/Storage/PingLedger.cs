using Npgsql;
using Observability.WarmUp.Targets;

namespace Observability.WarmUp.Storage;

/// <summary>A planned ping, as warmup.pings holds it.</summary>
internal sealed record PlannedPing(long Id, string Function, Uri Url, DateTimeOffset PlannedAt, int Instances, string? Outcome)
{
    /// <summary>Answered by the function (warm or cold): a re-run of its job must not ping again.</summary>
    public bool Done => Outcome is PingOutcomes.Warm or PingOutcomes.Cold;
}

/// <summary>The outcomes a ping records (warmup.pings.outcome, the metrics' outcome label).</summary>
public static class PingOutcomes
{
    public const string Warm = "warm";
    public const string Cold = "cold";
    public const string Failed = "failed";
}

/// <summary>warmup.pings and warmup.targets: what was planned, what was sent and how it went.</summary>
internal sealed class PingLedger(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Whether a ping planned for the function has not answered yet (its job is waiting, running or retrying), so
    /// that the planner does not plan another beside it. One older than <paramref name="expiry"/> no longer counts.
    /// </summary>
    public async Task<bool> HasPendingAsync(string function, DateTimeOffset now, TimeSpan expiry, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (SELECT 1 FROM warmup.pings
                WHERE function_name = $1 AND (outcome IS NULL OR outcome = 'failed') AND planned_at > $2)
            """);
        command.Parameters.AddWithValue(function);
        command.Parameters.AddWithValue(now - expiry);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>When the function's last answered ping was sent, at or before <paramref name="now"/>; null if none.</summary>
    public async Task<DateTimeOffset?> LastAnsweredAsync(string function, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT max(sent_at) FROM warmup.pings WHERE function_name = $1 AND outcome IN ('warm', 'cold') AND sent_at <= $2
            """);
        command.Parameters.AddWithValue(function);
        command.Parameters.AddWithValue(now);
        return await command.ExecuteScalarAsync(ct) is DateTime sent ? new DateTimeOffset(sent, TimeSpan.Zero) : null;
    }

    /// <summary>Planned times of the pings that count against the budget in the hour before <paramref name="at"/>: every one planned, answered or not.</summary>
    public async Task<IReadOnlyList<DateTimeOffset>> PlannedInHourBeforeAsync(string function, DateTimeOffset at, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT planned_at FROM warmup.pings
            WHERE function_name = $1 AND planned_at > $2 AND planned_at <= $3
            ORDER BY planned_at
            """);
        command.Parameters.AddWithValue(function);
        command.Parameters.AddWithValue(at - TimeSpan.FromHours(1));
        command.Parameters.AddWithValue(at);
        var times = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            times.Add(new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero));
        }

        return times;
    }

    /// <summary>Plans a ping in its slot; null when the slot is taken (planned already, by this or another scheduler).</summary>
    public async Task<long?> TryPlanAsync(WarmUpTarget target, DateTimeOffset slot, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO warmup.pings (function_name, url, planned_at, instances) VALUES ($1, $2, $3, $4)
            ON CONFLICT (function_name, planned_at) DO NOTHING
            RETURNING id
            """);
        command.Parameters.AddWithValue(target.Function);
        command.Parameters.AddWithValue(target.Url.ToString());
        command.Parameters.AddWithValue(slot);
        command.Parameters.AddWithValue(target.Instances);
        return await command.ExecuteScalarAsync(ct) as long?;
    }

    public async Task<PlannedPing?> GetAsync(long id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT function_name, url, planned_at, instances, outcome FROM warmup.pings WHERE id = $1");
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        return new PlannedPing(id, reader.GetString(0), new Uri(reader.GetString(1)), new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4));
    }

    /// <summary>Records an attempt's outcome. A later attempt overwrites a failed one; nothing overwrites an answered one.</summary>
    public async Task RecordAsync(long id, DateTimeOffset sentAt, string outcome, int? statusCode, double latencyMs, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE warmup.pings SET sent_at = $2, outcome = $3, status_code = $4, latency_ms = $5
            WHERE id = $1 AND (outcome IS NULL OR outcome = 'failed')
            """);
        command.Parameters.AddWithValue(id);
        command.Parameters.AddWithValue(sentAt);
        command.Parameters.AddWithValue(outcome);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)statusCode ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        command.Parameters.AddWithValue(latencyMs);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Pings sent (answered or failed) per function in the hour before <paramref name="now"/>.</summary>
    public async Task<IReadOnlyDictionary<string, long>> SentLastHourAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT function_name, count(*) FROM warmup.pings WHERE sent_at > $1 AND sent_at <= $2 GROUP BY 1
            """);
        command.Parameters.AddWithValue(now - TimeSpan.FromHours(1));
        command.Parameters.AddWithValue(now);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <summary>Makes warmup.targets hold exactly these targets.</summary>
    public async Task SaveTargetsAsync(IReadOnlyList<WarmUpTarget> targets, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var delete = new NpgsqlCommand("DELETE FROM warmup.targets WHERE NOT (function_name = ANY($1))", connection, transaction))
        {
            delete.Parameters.AddWithValue(targets.Select(t => t.Function).ToArray());
            await delete.ExecuteNonQueryAsync(ct);
        }

        foreach (var target in targets)
        {
            await using var upsert = new NpgsqlCommand("""
                INSERT INTO warmup.targets (function_name, url, policy, instances, budget_per_hour, active_hours, source, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (function_name) DO UPDATE SET url = excluded.url, policy = excluded.policy, instances = excluded.instances,
                    budget_per_hour = excluded.budget_per_hour, active_hours = excluded.active_hours, source = excluded.source, updated_at = excluded.updated_at
                """, connection, transaction);
            upsert.Parameters.AddWithValue(target.Function);
            upsert.Parameters.AddWithValue(target.Url.ToString());
            upsert.Parameters.AddWithValue(target.Policy);
            upsert.Parameters.AddWithValue(target.Instances);
            upsert.Parameters.AddWithValue(target.BudgetPerHour);
            upsert.Parameters.Add(new NpgsqlParameter { Value = (object?)target.ActiveHours?.Expression ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            upsert.Parameters.AddWithValue(target.Source);
            upsert.Parameters.AddWithValue(now);
            await upsert.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    /// <summary>Whether the collector's tables are there (a scheduler may start before the collector made them).</summary>
    public async Task<bool> CollectorTablesExistAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT to_regclass('spans') IS NOT NULL");
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Functions whose sidecar advertised a warm-up URL on a span since <paramref name="since"/>, with the newest URL.</summary>
    public async Task<IReadOnlyList<(string Function, Uri Url)>> DiscoverAsync(string attribute, DateTimeOffset since, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT DISTINCT ON (function_name) function_name, resource ->> $1
            FROM spans
            WHERE start_time > $2 AND function_name IS NOT NULL AND resource ->> $1 IS NOT NULL
            ORDER BY function_name, start_time DESC
            """);
        command.Parameters.AddWithValue(attribute);
        command.Parameters.AddWithValue(since);
        var found = new List<(string, Uri)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (Uri.TryCreate(reader.GetString(1), UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
            {
                found.Add((reader.GetString(0), url));
            }
        }

        return found;
    }
}
