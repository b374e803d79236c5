using Npgsql;
using Observability.WarmUp.Policies;

namespace Observability.WarmUp.Storage;

/// <summary>
/// Builds what a policy knows about a function from the collector's tables and the scheduler's pings: the last
/// real invocation (a SERVER span that is no warm-up ping), the idle times between invocations over the history
/// window (gaps computed in SQL with lag(), binned to minutes), the last ping that answered, and the recent cold
/// signals (pings that found the function cold, real invocations that still started cold, each only when a ping
/// had answered within the keep-alive before it).
/// </summary>
internal sealed class ActivityReader(NpgsqlDataSource dataSource)
{
    /// <summary>OTLP's SpanKind SERVER, as the collector stores it.</summary>
    private const short ServerKind = 2;

    private const string InvocationsSql = """
        SELECT max(start_time) FROM spans
        WHERE function_name = @f AND start_time > @since AND start_time <= @now AND NOT warmup AND kind = @server
        """;

    // Minutes as bins; gaps of 4 hours or more land in one bin past the histogram, counted as out of range.
    private const string IdleTimesSql = """
        SELECT least(floor(extract(epoch FROM gap) / 60), @bins)::int AS bin, count(*)
        FROM (
            SELECT start_time - lag(start_time) OVER (ORDER BY start_time) AS gap
            FROM spans
            WHERE function_name = @f AND start_time > @since AND start_time <= @now AND NOT warmup AND kind = @server
        ) gaps
        WHERE gap IS NOT NULL
        GROUP BY 1
        """;

    // Cold signals count only cold starts a warm-up was meant to prevent: a ping or an invocation that found the
    // function cold although a ping had answered within the keep-alive before it. The first ping of a function
    // that nobody warmed finds it cold as a matter of course and is no signal.
    private const string PingsSql = """
        SELECT
            (SELECT max(sent_at) FROM warmup.pings WHERE function_name = @f AND outcome IN ('warm', 'cold') AND sent_at <= @now),
            (SELECT count(*) FROM warmup.pings p
                WHERE p.function_name = @f AND p.outcome = 'cold' AND p.sent_at > @recent AND p.sent_at <= @now
                AND EXISTS (SELECT 1 FROM warmup.pings q WHERE q.function_name = @f AND q.outcome IN ('warm', 'cold')
                    AND q.sent_at < p.sent_at AND q.sent_at >= p.sent_at - @keepalive)),
            (SELECT count(*) FROM spans s
                WHERE s.function_name = @f AND s.start_time > @recent AND s.start_time <= @now
                AND NOT s.warmup AND s.kind = @server AND s.faas_coldstart
                AND EXISTS (SELECT 1 FROM warmup.pings q WHERE q.function_name = @f AND q.outcome IN ('warm', 'cold')
                    AND q.sent_at < s.start_time AND q.sent_at >= s.start_time - @keepalive))
        """;

    public async Task<FunctionActivity> ReadAsync(string function, DateTimeOffset now, TimeSpan history, TimeSpan coldSignalWindow, TimeSpan keepAlive, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var since = now - history;

        DateTimeOffset? lastInvocation;
        await using (var command = Command(connection, InvocationsSql, function, now, since))
        {
            lastInvocation = await command.ExecuteScalarAsync(ct) is DateTime t ? new DateTimeOffset(t, TimeSpan.Zero) : null;
        }

        var idle = new IdleTimeHistogram();
        await using (var command = Command(connection, IdleTimesSql, function, now, since))
        {
            command.Parameters.AddWithValue("bins", IdleTimeHistogram.BinCount);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                // The bin's lower edge stands for every idle time in it: the histogram bins by whole minutes anyway.
                var minutes = TimeSpan.FromMinutes(reader.GetInt32(0));
                for (long i = reader.GetInt64(1); i > 0; i--)
                {
                    idle.Add(minutes);
                }
            }
        }

        await using (var command = Command(connection, PingsSql, function, now, since))
        {
            command.Parameters.AddWithValue("recent", now - coldSignalWindow);
            command.Parameters.AddWithValue("keepalive", keepAlive);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            DateTimeOffset? lastPing = reader.IsDBNull(0) ? null : new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero);
            var coldSignals = checked((int)(reader.GetInt64(1) + reader.GetInt64(2)));
            return new FunctionActivity(function, lastInvocation, lastPing, idle, coldSignals);
        }
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, string function, DateTimeOffset now, DateTimeOffset since)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("f", function);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("since", since);
        command.Parameters.AddWithValue("server", ServerKind);
        return command;
    }
}
