using Npgsql;
using Observability.Otlp.Semantics;
using Observability.Testing;

namespace Observability.WarmUp.Tests.Scheduling;

/// <summary>What the scheduler tests set up and read back: a fresh database each, spans through a real collector, warmup.pings.</summary>
internal static class SchedulingFixtures
{
    /// <summary>A database of its own: Hangfire's queues and the planner's targets of one test never meet another's.</summary>
    public static async Task<string> NewDatabaseAsync() => await (await PostgresServer.Shared).CreateDatabaseAsync("warmup");

    /// <summary>Sends invocation spans (SERVER, not warm-up) of a function at the given times through the collector, its sidecar advertising <paramref name="warmUpUrl"/>.</summary>
    public static Task SendInvocationsAsync(CollectorRunner collector, string connectionString, string function, Uri? warmUpUrl, params DateTimeOffset[] starts) =>
        SendSpansAsync(collector, connectionString, function, warmUpUrl, warmUp: false, starts);

    /// <summary>Sends the span of a warm-up ping (obs.warmup = true), as a sidecar does for a ping with its token.</summary>
    public static Task SendPingSpanAsync(CollectorRunner collector, string connectionString, string function, DateTimeOffset start) =>
        SendSpansAsync(collector, connectionString, function, null, warmUp: true, [start]);

    private static async Task SendSpansAsync(CollectorRunner collector, string connectionString, string function, Uri? warmUpUrl, bool warmUp, DateTimeOffset[] starts)
    {
        var spans = starts.Select(start =>
        {
            var span = warmUp
                ? OtlpFactory.Span("GET /", attributes: [OtlpFactory.Attr(FaasConventions.FaasTrigger, "http"), OtlpFactory.Attr(ObsConventions.WarmUp, true)])
                : OtlpFactory.Span("GET /", attributes: OtlpFactory.Attr(FaasConventions.FaasTrigger, "http"));
            span.StartTimeUnixNano = OtlpFactory.Nanos(start.UtcDateTime);
            span.EndTimeUnixNano = OtlpFactory.Nanos(start.UtcDateTime.AddMilliseconds(20));
            return span;
        }).ToArray();
        var request = OtlpFactory.Traces(function, function, spans);
        if (warmUpUrl is not null)
        {
            request.ResourceSpans[0].Resource.Attributes.Add(OtlpFactory.Attr(ObsConventions.WarmUpUrl, warmUpUrl.ToString()));
        }

        var before = await SpanCountAsync(connectionString, function);
        using var response = await collector.Ingest.PostAsync("/v1/traces", OtlpFactory.Protobuf(request));
        response.EnsureSuccessStatusCode();
        await Poll.UntilAsync(
            () => SpanCountAsync(connectionString, function),
            n => n >= before + starts.Length,
            TimeSpan.FromSeconds(30),
            $"{function}'s spans to be stored");
    }

    private static async Task<long> SpanCountAsync(string connectionString, string function) =>
        await Sql.ScalarAsync<long>(connectionString, "SELECT count(*) FROM spans WHERE function_name = $1", function);

    /// <summary>The rows of warmup.pings of a function, oldest plan first.</summary>
    public static async Task<IReadOnlyList<PingRow>> PingsAsync(string connectionString, string function)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, planned_at, sent_at, outcome, status_code, instances FROM warmup.pings WHERE function_name = $1 ORDER BY planned_at", connection);
        command.Parameters.AddWithValue(function);
        var rows = new List<PingRow>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new PingRow(
                reader.GetInt64(0),
                new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero),
                reader.IsDBNull(2) ? null : new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4),
                reader.GetInt32(5)));
        }

        return rows;
    }

    /// <summary>Waits until every ping of the function has an outcome of warm or cold.</summary>
    public static Task<IReadOnlyList<PingRow>> AnsweredPingsAsync(string connectionString, string function, int count, TimeSpan? timeout = null) =>
        Poll.UntilAsync(
            () => PingsAsync(connectionString, function),
            rows => rows.Count(r => r.Outcome is "warm" or "cold") >= count,
            timeout ?? TimeSpan.FromSeconds(60),
            $"{count} answered pings of {function}");

    /// <summary>A targets file in a temp folder.</summary>
    public static string TargetsFile(string yaml)
    {
        var path = Path.Combine(Path.GetTempPath(), $"warmup-targets-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    public static DateTimeOffset WholeSecond(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}

internal sealed record PingRow(long Id, DateTimeOffset PlannedAt, DateTimeOffset? SentAt, string? Outcome, int? StatusCode, int Instances);
