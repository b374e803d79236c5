using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Observability.Collector.Analysis;
using Observability.Otlp.Semantics;

namespace Observability.Collector.Query;

/// <summary>A failure snapshot in a list: enough to pick one, without its body.</summary>
public sealed record ApiSnapshotSummary(
    string Id,
    DateTime Time,
    string? TraceId,
    string? SpanId,
    string Function,
    string? Version,
    string? Instance,
    string? Trigger,
    int? StatusCode,
    string? ExceptionType,
    string? ExceptionMessage);

/// <summary>Snapshots with the same fingerprint: how many, when, which versions, the newest one and a trace to open.</summary>
public sealed record ApiFailureGroup(
    string Fingerprint,
    FailureSignature Signature,
    long Count,
    DateTime FirstSeen,
    DateTime LastSeen,
    IReadOnlyList<string> Versions,
    string LatestSnapshotId,
    string? SampleTraceId,
    string? LatestMessage);

/// <summary>A page of groups. <c>scanned</c> snapshots were read; <c>truncated</c>: the range held more (the oldest were not grouped).</summary>
public sealed record ApiFailureGroups(IReadOnlyList<ApiFailureGroup> Items, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Next, int Scanned, bool Truncated);

/// <summary>One group and a page of its snapshots, newest first.</summary>
public sealed record ApiFailureGroupDetail(
    ApiFailureGroup Group,
    IReadOnlyList<ApiSnapshotSummary> Items,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Next,
    int Scanned,
    bool Truncated);

/// <summary>
/// A snapshot's dump as the sidecar reported it (<c>id</c> it uploads it under, <c>path</c> on its host), and whether the
/// collector holds the bytes (<c>downloadable</c>: GET /api/v1/snapshots/{id}/dump); <c>reason</c> says where it is, or why not.
/// </summary>
public sealed record ApiDump(string? Id, string? Kind, string? Path, long? Bytes, string? Error, string? Instance, bool Downloadable, string Reason);

/// <summary>A whole failure snapshot: its body with every part the sidecar captured, its attributes, its group and links.</summary>
public sealed record ApiSnapshotDetail(
    ApiSnapshotSummary Summary,
    string Fingerprint,
    FailureSignature Signature,
    string? TraceLink,
    string? UiTraceLink,
    string ServiceName,
    JsonElement Attributes,
    JsonElement Snapshot,
    ApiDump? Dump);

/// <summary>
/// Groups failure snapshots by <see cref="FailureFingerprint"/>, computed when asked from what each snapshot holds
/// (so a change to the normalisation applies to stored snapshots too, and ingest is untouched). A range is read
/// newest first, at most <see cref="MaxScan"/> snapshots.
/// </summary>
public sealed class FailureStore([FromKeyedServices(QueryDatabase.Key)] NpgsqlDataSource dataSource)
{
    public const int MaxScan = 10_000;

    // The route comes from the invocation span when it was stored (same trace and span; it starts when the
    // snapshot's time says the request arrived), else from the request's URL.
    private const string Columns = """
        l.log_id, l.time, l.trace_id, l.span_id, coalesce(l.function_name, l.service_name), l.function_version, l.faas_instance,
        l.attributes ->> 'obs.snapshot.trigger', coalesce(l.attributes ->> 'http.response.status_code', l.body -> 'response' ->> 'status'),
        l.attributes ->> 'exception.type', l.attributes ->> 'exception.message', l.attributes ->> 'exception.stacktrace', l.body -> 'request' ->> 'url',
        (SELECT s.attributes ->> 'http.route' FROM spans s
         WHERE l.trace_id IS NOT NULL AND l.span_id IS NOT NULL AND s.trace_id = l.trace_id AND s.span_id = l.span_id
           AND s.start_time >= l.time - interval '1 minute' AND s.start_time <= l.time + interval '1 minute' LIMIT 1)
        """;

    private sealed record Row(ApiSnapshotSummary Summary, string Fingerprint, FailureSignature Signature);

    public async Task<ApiFailureGroups> GroupsAsync(DateTime start, DateTime end, string? function, string[]? after, int limit, CancellationToken ct)
    {
        var (rows, truncated) = await ScanAsync(start, end, function, ct);
        var groups = Group(rows);
        var page = groups.Where(g => after is null || IsAfter(g, after)).Take(limit + 1).ToList();
        string? next = null;
        if (page.Count > limit)
        {
            page.RemoveAt(page.Count - 1);
            next = PageCursor.Encode(page[^1].LastSeen.Ticks.ToString(CultureInfo.InvariantCulture), page[^1].Fingerprint);
        }

        return new ApiFailureGroups(page, next, rows.Count, truncated);
    }

    /// <summary>The group of <paramref name="fingerprint"/> in the range, with a page of its snapshots; null when none is in it.</summary>
    public async Task<ApiFailureGroupDetail?> GroupAsync(string fingerprint, DateTime start, DateTime end, string[]? after, int limit, CancellationToken ct)
    {
        var (rows, truncated) = await ScanAsync(start, end, null, ct);
        var members = rows.Where(r => r.Fingerprint == fingerprint).ToList();
        if (members.Count == 0)
        {
            return null;
        }

        var afterTicks = after is null ? 0 : CursorTicks(after[0]);
        var page = members
            .Where(r => after is null || r.Summary.Time.Ticks < afterTicks
                || (r.Summary.Time.Ticks == afterTicks && string.CompareOrdinal(r.Summary.Id, after[1]) > 0))
            .Take(limit + 1).Select(r => r.Summary).ToList();
        string? next = null;
        if (page.Count > limit)
        {
            page.RemoveAt(page.Count - 1);
            next = PageCursor.Encode(page[^1].Time.Ticks.ToString(CultureInfo.InvariantCulture), page[^1].Id);
        }

        return new ApiFailureGroupDetail(Group(members)[0], page, next, rows.Count, truncated);
    }

    public async Task<ApiSnapshotDetail?> SnapshotAsync(byte[] id, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            $"SELECT {Columns}, l.service_name, l.attributes::text, l.body::text, " +
            "(SELECT d.bytes FROM dumps d WHERE d.dump_id = l.body -> 'dump' ->> 'id') FROM logs l WHERE l.log_id = $1 AND l.event_name = $2 LIMIT 1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = id, NpgsqlDbType = NpgsqlDbType.Bytea });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ObsConventions.FailureSnapshotEvent, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        var row = Read(reader);
        var body = JsonSerializer.Deserialize<JsonElement>(reader.GetString(16));
        var traceId = row.Summary.TraceId;
        return new ApiSnapshotDetail(
            row.Summary,
            row.Fingerprint,
            row.Signature,
            traceId is null ? null : $"/api/v1/traces/{traceId}",
            traceId is null ? null : $"/ui/traces/{traceId}",
            reader.GetString(14),
            JsonSerializer.Deserialize<JsonElement>(reader.GetString(15)),
            body,
            DumpOf(body, row.Summary.Id, row.Summary.Instance, reader.IsDBNull(17) ? null : reader.GetInt64(17)));
    }

    /// <summary>
    /// The dump a snapshot mentions. The sidecar writes it on its own host, puts its path and an id in the snapshot and
    /// uploads it under that id in the background; <paramref name="storedBytes"/> is the size of the upload the collector
    /// holds, null when it holds none (an older sidecar, one without an OTLP endpoint, or an upload not done or failed).
    /// </summary>
    internal static ApiDump? DumpOf(JsonElement body, string snapshotId, string? instance, long? storedBytes)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("dump", out var dump) || dump.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        string? Text(string name) => dump.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        long? bytes = dump.TryGetProperty("bytes", out var b) && b.ValueKind == JsonValueKind.Number ? b.GetInt64() : null;
        var id = Text("id");
        var path = Text("path");
        var host = $"the host of sidecar instance {instance ?? "(unknown)"}";
        var reason = (path, id, storedBytes) switch
        {
            (_, not null, { } stored) => $"the collector holds the dump ({stored} bytes): download it from /api/v1/snapshots/{snapshotId}/dump",
            (null, _, _) => $"no dump was written: {Text("error") ?? "the sidecar gave no reason"}",
            (_, null, _) => $"the dump stays on {host} at {path}: that sidecar does not upload dumps (no OTLP endpoint, or a version before dump upload), copy it from there",
            _ => $"the collector does not hold the dump (yet): the sidecar uploads it in the background after the snapshot, and keeps it on {host} at {path} when the upload fails (its log and obs_sidecar_dump_uploads_total say why)",
        };
        return new ApiDump(id, Text("kind"), path, bytes, Text("error"), instance, storedBytes is not null, reason);
    }

    private async Task<(List<Row> Rows, bool Truncated)> ScanAsync(DateTime start, DateTime end, string? function, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            $"SELECT {Columns} FROM logs l WHERE l.event_name = $1 AND l.time >= $2 AND l.time < $3 " +
            "AND ($4::text IS NULL OR coalesce(l.function_name, l.service_name) = $4) ORDER BY l.time DESC, l.log_id LIMIT $5");
        cmd.Parameters.Add(new NpgsqlParameter { Value = ObsConventions.FailureSnapshotEvent, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)function ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = MaxScan + 1, NpgsqlDbType = NpgsqlDbType.Integer });
        var rows = new List<Row>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(Read(reader));
        }

        var truncated = rows.Count > MaxScan;
        if (truncated)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return (rows, truncated);
    }

    private static Row Read(NpgsqlDataReader reader)
    {
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        var status = int.TryParse(Text(8), NumberStyles.Integer, CultureInfo.InvariantCulture, out var code) ? code : (int?)null;
        var function = reader.GetString(4);
        var summary = new ApiSnapshotSummary(
            ApiMapping.Hex(reader.GetFieldValue<byte[]>(0)),
            reader.GetDateTime(1),
            reader.IsDBNull(2) ? null : ApiMapping.Hex(reader.GetFieldValue<byte[]>(2)),
            reader.IsDBNull(3) ? null : ApiMapping.Hex(reader.GetFieldValue<byte[]>(3)),
            function,
            Text(5),
            Text(6),
            Text(7),
            status,
            Text(9),
            Text(10));
        var signature = FailureFingerprint.Signature(function, summary.ExceptionType, Text(11), summary.Trigger, status, Text(13), Text(12));
        return new Row(summary, FailureFingerprint.Of(signature), signature);
    }

    /// <summary>Groups, the most recently seen first (then by fingerprint, so pages are stable).</summary>
    private static List<ApiFailureGroup> Group(List<Row> rows) =>
        [.. rows.GroupBy(r => r.Fingerprint, StringComparer.Ordinal).Select(g =>
        {
            // Rows come newest first.
            var latest = g.First();
            return new ApiFailureGroup(
                g.Key,
                latest.Signature,
                g.LongCount(),
                g.Min(r => r.Summary.Time),
                latest.Summary.Time,
                [.. g.Select(r => r.Summary.Version ?? string.Empty).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
                latest.Summary.Id,
                g.Select(r => r.Summary.TraceId).FirstOrDefault(t => t is not null),
                latest.Summary.ExceptionMessage);
        }).OrderByDescending(g => g.LastSeen).ThenBy(g => g.Fingerprint, StringComparer.Ordinal)];

    private static bool IsAfter(ApiFailureGroup group, string[] after)
    {
        var ticks = CursorTicks(after[0]);
        return group.LastSeen.Ticks < ticks || (group.LastSeen.Ticks == ticks && string.CompareOrdinal(group.Fingerprint, after[1]) > 0);
    }

    private static long CursorTicks(string text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks)
            ? ticks
            : throw new QueryException("cursor is not a cursor of this list: pass the \"next\" of the previous page unchanged");
}
