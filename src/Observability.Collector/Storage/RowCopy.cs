using Npgsql;
using NpgsqlTypes;
using Observability.Core.Model;

namespace Observability.Collector.Storage;

/// <summary>Binary COPY of span and log rows: the one way rows enter the database.</summary>
internal static class RowCopy
{
    public const string SpanColumns =
        "trace_id, span_id, parent_span_id, trace_state, name, kind, start_time, duration_ns, status_code, status_message, flags, " +
        "service_name, scope_name, scope_version, function_name, function_version, faas_instance, faas_trigger, faas_invocation_id, " +
        "faas_coldstart, warmup, coldstart_phase, http_status_code, attributes, resource, events, links, adjusted_count";

    public const string LogColumns =
        "log_id, time, observed_time, trace_id, span_id, severity_number, severity_text, event_name, service_name, " +
        "function_name, function_version, faas_instance, scope_name, body, attributes, resource";

    public static async Task CopySpansAsync(NpgsqlConnection conn, string table, IEnumerable<SpanRow> rows, CancellationToken ct)
    {
        await using var copy = await conn.BeginBinaryImportAsync($"COPY {table} ({SpanColumns}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var r in rows)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(r.TraceId, NpgsqlDbType.Bytea, ct);
            await copy.WriteAsync(r.SpanId, NpgsqlDbType.Bytea, ct);
            await WriteAsync(copy, r.ParentSpanId, NpgsqlDbType.Bytea, ct);
            await WriteAsync(copy, r.TraceState, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(r.Name, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(r.Kind, NpgsqlDbType.Smallint, ct);
            await copy.WriteAsync(r.StartTime, NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(r.DurationNanos, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(r.StatusCode, NpgsqlDbType.Smallint, ct);
            await WriteAsync(copy, r.StatusMessage, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(r.Flags, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(r.ServiceName, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.ScopeName, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.ScopeVersion, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.FunctionName, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.FunctionVersion, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.FaasInstance, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.FaasTrigger, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.FaasInvocationId, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.FaasColdStart, NpgsqlDbType.Boolean, ct);
            await copy.WriteAsync(r.WarmUp, NpgsqlDbType.Boolean, ct);
            await WriteAsync(copy, r.ColdStartPhase, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.HttpStatusCode, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(r.Attributes, NpgsqlDbType.Jsonb, ct);
            await copy.WriteAsync(r.Resource, NpgsqlDbType.Jsonb, ct);
            await copy.WriteAsync(r.Events, NpgsqlDbType.Jsonb, ct);
            await copy.WriteAsync(r.Links, NpgsqlDbType.Jsonb, ct);
            await copy.WriteAsync(r.AdjustedCount, NpgsqlDbType.Double, ct);
        }

        await copy.CompleteAsync(ct);
    }

    public static async Task CopyLogsAsync(NpgsqlConnection conn, string table, IEnumerable<LogRow> rows, CancellationToken ct)
    {
        await using var copy = await conn.BeginBinaryImportAsync($"COPY {table} ({LogColumns}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var r in rows)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(r.LogId, NpgsqlDbType.Bytea, ct);
            await copy.WriteAsync(r.Time, NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(r.ObservedTime, NpgsqlDbType.TimestampTz, ct);
            await WriteAsync(copy, r.TraceId, NpgsqlDbType.Bytea, ct);
            await WriteAsync(copy, r.SpanId, NpgsqlDbType.Bytea, ct);
            await copy.WriteAsync(r.SeverityNumber, NpgsqlDbType.Smallint, ct);
            await WriteAsync(copy, r.SeverityText, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.EventName, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(r.ServiceName, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.FunctionName, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.FunctionVersion, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.FaasInstance, NpgsqlDbType.Text, ct);
            await WriteAsync(copy, r.ScopeName, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(r.Body, NpgsqlDbType.Jsonb, ct);
            await copy.WriteAsync(r.Attributes, NpgsqlDbType.Jsonb, ct);
            await copy.WriteAsync(r.Resource, NpgsqlDbType.Jsonb, ct);
        }

        await copy.CompleteAsync(ct);
    }

    private static Task WriteAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken ct)
        where T : class =>
        value is null ? copy.WriteNullAsync(ct) : copy.WriteAsync(value, type, ct);

    private static Task WriteAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken ct)
        where T : struct =>
        value is { } v ? copy.WriteAsync(v, type, ct) : copy.WriteNullAsync(ct);
}
