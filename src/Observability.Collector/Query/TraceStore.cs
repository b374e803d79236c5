using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace Observability.Collector.Query;

/// <summary>A stored span as the query side reads it. JSON columns stay JSON.</summary>
public sealed record StoredSpan(
    byte[] TraceId,
    byte[] SpanId,
    byte[]? ParentSpanId,
    string? TraceState,
    string Name,
    short Kind,
    DateTime StartTime,
    long DurationNanos,
    short StatusCode,
    string? StatusMessage,
    string ServiceName,
    string? ScopeName,
    string? ScopeVersion,
    string? FunctionName,
    string? FunctionVersion,
    string? FaasInstance,
    string? FaasTrigger,
    string? FaasInvocationId,
    bool? FaasColdStart,
    bool WarmUp,
    JsonElement Attributes,
    JsonElement Resource,
    JsonElement Events,
    JsonElement Links);

/// <summary>Filters of a trace search. Every filter is optional but the time range.</summary>
public sealed record TraceQuery
{
    public required DateTime Start { get; init; }
    public required DateTime End { get; init; }
    public string? Service { get; init; }
    public string? Function { get; init; }
    public string? SpanName { get; init; }
    public long? MinDurationNanos { get; init; }
    public long? MaxDurationNanos { get; init; }
    public bool ErrorsOnly { get; init; }
    /// <summary>Span (or resource) attributes that must equal the given values.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
    public int Limit { get; init; } = 20;

    /// <summary>Where the previous page ended (its <c>next</c>): only traces after it in the search's order.</summary>
    public TraceSearchKey? After { get; init; }
}

/// <summary>
/// A trace's place in a search's order: the start of its newest matching span, then its id (both descending), so
/// that traces whose spans started in the same microsecond still page in a fixed order.
/// </summary>
public sealed record TraceSearchKey(DateTime LastMatchStart, byte[] TraceId)
{
    public string ToCursor() =>
        PageCursor.Encode(LastMatchStart.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture), Convert.ToHexStringLower(TraceId));

    /// <summary>The key in a cursor this API gave; null when none was given.</summary>
    internal static TraceSearchKey? FromCursor(string? cursor)
    {
        if (PageCursor.Decode(cursor, 2) is not { } key)
        {
            return null;
        }

        return long.TryParse(key[0], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var ticks)
            && ticks is >= 0 and <= 3155378975999999999 && key[1].Length == 32 && key[1].All(char.IsAsciiHexDigit)
            ? new TraceSearchKey(new DateTime(ticks, DateTimeKind.Utc), Convert.FromHexString(key[1]))
            : throw new QueryException($"cursor=\"{cursor}\" is not a cursor of this list: pass the \"next\" of the previous page unchanged");
    }
}

public sealed record TraceSummary(byte[] TraceId, string RootService, string RootName, DateTime StartTime, long DurationNanos, int SpanCount, int ErrorCount, string[] Services);

public sealed record ServiceInfo(string Name, DateTime LastSeen, long SpanCount);

public sealed record OperationInfo(string Name, short Kind);

/// <summary>
/// The SQL of the query API. Every query is bounded by time or by a key, so it stays on the indexes; it runs on
/// the query connections (<see cref="QueryDatabase"/>), whose statement timeout cuts short what would not.
/// </summary>
public sealed class TraceStore([FromKeyedServices(QueryDatabase.Key)] NpgsqlDataSource dataSource)
{
    private const string SpanColumns =
        "trace_id, span_id, parent_span_id, trace_state, name, kind, start_time, duration_ns, status_code, status_message, service_name, " +
        "scope_name, scope_version, function_name, function_version, faas_instance, faas_trigger, faas_invocation_id, faas_coldstart, warmup, " +
        "attributes::text, resource::text, events::text, links::text";

    public async Task<IReadOnlyList<StoredSpan>> GetTraceAsync(byte[] traceId, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT {SpanColumns} FROM spans WHERE trace_id = $1 ORDER BY start_time");
        cmd.Parameters.Add(new NpgsqlParameter { Value = traceId, NpgsqlDbType = NpgsqlDbType.Bytea });
        return await ReadSpansAsync(cmd, ct);
    }

    public async Task<IReadOnlyList<StoredSpan>> GetTracesAsync(byte[][] traceIds, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT {SpanColumns} FROM spans WHERE trace_id = ANY($1) ORDER BY start_time");
        cmd.Parameters.Add(new NpgsqlParameter { Value = traceIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        return await ReadSpansAsync(cmd, ct);
    }

    /// <summary>Ids of the most recent traces with at least one span matching every filter, newest first.</summary>
    public async Task<byte[][]> FindTraceIdsAsync(TraceQuery q, CancellationToken ct) =>
        [.. (await FindTraceKeysAsync(q, ct)).Select(k => k.TraceId)];

    private async Task<List<TraceSearchKey>> FindTraceKeysAsync(TraceQuery q, CancellationToken ct)
    {
        await using var cmd = FindTraceIdsCommand(q);
        var keys = new List<TraceSearchKey>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            keys.Add(new TraceSearchKey(reader.GetDateTime(1), reader.GetFieldValue<byte[]>(0)));
        }

        return keys;
    }

    /// <summary>The search's SQL and parameters, apart so that a test can EXPLAIN exactly what runs.</summary>
    internal NpgsqlCommand FindTraceIdsCommand(TraceQuery q)
    {
        var sql = new StringBuilder("SELECT trace_id, max(start_time) FROM spans WHERE start_time >= $1 AND start_time < $2");
        var parameters = new List<NpgsqlParameter> { new() { Value = q.Start, NpgsqlDbType = NpgsqlDbType.TimestampTz }, new() { Value = q.End, NpgsqlDbType = NpgsqlDbType.TimestampTz } };
        string Parameter(object value, NpgsqlDbType type)
        {
            parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
            return "$" + parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        void Add(string condition, object value, NpgsqlDbType type) =>
            sql.Append(" AND ").Append(condition.Replace("{p}", Parameter(value, type), StringComparison.Ordinal));

        if (q.Service is not null)
        {
            Add("service_name = {p}", q.Service, NpgsqlDbType.Text);
        }

        if (q.Function is not null)
        {
            Add("function_name = {p}", q.Function, NpgsqlDbType.Text);
        }

        if (q.SpanName is not null)
        {
            Add("name = {p}", q.SpanName, NpgsqlDbType.Text);
        }

        if (q.MinDurationNanos is { } min)
        {
            Add("duration_ns >= {p}", min, NpgsqlDbType.Bigint);
        }

        if (q.MaxDurationNanos is { } max)
        {
            Add("duration_ns <= {p}", max, NpgsqlDbType.Bigint);
        }

        if (q.ErrorsOnly)
        {
            sql.Append(" AND status_code = 2");
        }

        foreach (var (key, value) in q.Attributes)
        {
            // Values come as text; a stored attribute may be a string, number or boolean. One `@>` per candidate
            // and column, joined by OR: a BitmapOr of the GIN indexes spans_attributes and spans_resource when
            // AttributeIndex is on, a filter on the time range's spans when it is off.
            var conditions = new List<string>();
            foreach (var candidate in AttributeCandidates(key, value))
            {
                var p = Parameter(candidate, NpgsqlDbType.Jsonb);
                conditions.Add($"attributes @> {p}");
                conditions.Add($"resource @> {p}");
            }

            sql.Append(" AND (").AppendJoin(" OR ", conditions).Append(')');
        }

        sql.Append(" GROUP BY trace_id");
        if (q.After is { } after)
        {
            sql.Append(" HAVING (max(start_time), trace_id) < (")
                .Append(Parameter(after.LastMatchStart, NpgsqlDbType.TimestampTz)).Append(", ")
                .Append(Parameter(after.TraceId, NpgsqlDbType.Bytea)).Append(')');
        }

        sql.Append(" ORDER BY max(start_time) DESC, trace_id DESC LIMIT ").Append(Math.Clamp(q.Limit, 1, 10_001));
        var cmd = dataSource.CreateCommand(sql.ToString());
        cmd.Parameters.AddRange(parameters.ToArray());
        return cmd;
    }

    /// <summary>A page of the search: at most <see cref="TraceQuery.Limit"/> traces, and the key to continue after them when there are more.</summary>
    public async Task<(IReadOnlyList<TraceSummary> Items, TraceSearchKey? Next)> SearchPageAsync(TraceQuery q, CancellationToken ct)
    {
        // One more than asked for says whether there is a next page.
        var keys = await FindTraceKeysAsync(q with { Limit = q.Limit + 1 }, ct);
        TraceSearchKey? next = null;
        if (keys.Count > q.Limit)
        {
            keys.RemoveAt(keys.Count - 1);
            next = keys[^1];
        }

        // In the order the pages follow (newest matching span first), so that a next page never goes back in time.
        var summaries = await SummariesAsync([.. keys.Select(k => k.TraceId)], ct);
        var rank = keys.Select((k, i) => (Id: Convert.ToHexString(k.TraceId), Rank: i)).ToDictionary(k => k.Id, k => k.Rank);
        return ([.. summaries.OrderBy(t => rank[Convert.ToHexString(t.TraceId)])], next);
    }

    private async Task<IReadOnlyList<TraceSummary>> SummariesAsync(byte[][] ids, CancellationToken ct)
    {
        if (ids.Length == 0)
        {
            return [];
        }

        await using var cmd = dataSource.CreateCommand("""
            SELECT trace_id,
                   (array_agg(service_name ORDER BY parent_span_id IS NOT NULL, start_time))[1],
                   (array_agg(name ORDER BY parent_span_id IS NOT NULL, start_time))[1],
                   min(start_time),
                   max(extract(epoch FROM start_time)::numeric * 1000000000 + duration_ns) - min(extract(epoch FROM start_time)::numeric * 1000000000),
                   count(*)::int,
                   (count(*) FILTER (WHERE status_code = 2))::int,
                   array_agg(DISTINCT service_name)
            FROM spans WHERE trace_id = ANY($1)
            GROUP BY trace_id ORDER BY min(start_time) DESC
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        var result = new List<TraceSummary>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new TraceSummary(
                reader.GetFieldValue<byte[]>(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetDateTime(3),
                (long)reader.GetDecimal(4),
                reader.GetInt32(5),
                reader.GetInt32(6),
                reader.GetFieldValue<string[]>(7)));
        }

        return result;
    }

    public async Task<IReadOnlyList<ServiceInfo>> ServicesAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("SELECT service_name, max(last_seen), sum(span_count)::bigint FROM operations GROUP BY service_name ORDER BY service_name");
        var result = new List<ServiceInfo>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new ServiceInfo(reader.GetString(0), reader.GetDateTime(1), reader.GetInt64(2)));
        }

        return result;
    }

    public async Task<IReadOnlyList<OperationInfo>> OperationsAsync(string service, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("SELECT span_name, span_kind FROM operations WHERE service_name = $1 ORDER BY span_name, span_kind");
        cmd.Parameters.Add(new NpgsqlParameter { Value = service });
        var result = new List<OperationInfo>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new OperationInfo(reader.GetString(0), reader.GetInt16(1)));
        }

        return result;
    }

    private static string[] AttributeCandidates(string key, string value)
    {
        var candidates = new List<string> { JsonSerializer.Serialize(new Dictionary<string, string> { [key] = value }) };
        if (long.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            candidates.Add(JsonSerializer.Serialize(new Dictionary<string, long> { [key] = number }));
        }
        else if (bool.TryParse(value, out var flag))
        {
            candidates.Add(JsonSerializer.Serialize(new Dictionary<string, bool> { [key] = flag }));
        }

        return [.. candidates];
    }

    private static async Task<IReadOnlyList<StoredSpan>> ReadSpansAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var spans = new List<StoredSpan>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            // Deserialize to JsonElement: a self-contained copy, no pooled JsonDocument left undisposed.
            JsonElement Json(int i) => JsonSerializer.Deserialize<JsonElement>(reader.GetString(i));
            spans.Add(new StoredSpan(
                reader.GetFieldValue<byte[]>(0),
                reader.GetFieldValue<byte[]>(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2),
                Text(3),
                reader.GetString(4),
                reader.GetInt16(5),
                reader.GetDateTime(6),
                reader.GetInt64(7),
                reader.GetInt16(8),
                Text(9),
                reader.GetString(10),
                Text(11),
                Text(12),
                Text(13),
                Text(14),
                Text(15),
                Text(16),
                Text(17),
                reader.IsDBNull(18) ? null : reader.GetBoolean(18),
                reader.GetBoolean(19),
                Json(20),
                Json(21),
                Json(22),
                Json(23)));
        }

        return spans;
    }
}
