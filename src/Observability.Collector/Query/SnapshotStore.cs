using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Observability.Otlp.Semantics;

namespace Observability.Collector.Query;

/// <summary>A failure snapshot as stored: an OTLP log record with the snapshot event name; the body is the snapshot.</summary>
public sealed record StoredSnapshot(
    DateTime Time,
    string? TraceId,
    string? SpanId,
    string ServiceName,
    string? FunctionName,
    string? FunctionVersion,
    string? FaasInstance,
    string? Trigger,
    JsonElement Snapshot);

/// <summary>Reads failure snapshots, newest first, by function or by trace, within a time range.</summary>
public sealed class SnapshotStore([FromKeyedServices(QueryDatabase.Key)] NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<StoredSnapshot>> FindAsync(DateTime start, DateTime end, string? function, byte[]? traceId, int limit, CancellationToken ct)
    {
        var sql = new StringBuilder(
            "SELECT time, trace_id, span_id, service_name, function_name, function_version, faas_instance, attributes ->> $4, body::text " +
            "FROM logs WHERE event_name = $3 AND time >= $1 AND time < $2");
        await using var cmd = dataSource.CreateCommand();
        cmd.Parameters.Add(new NpgsqlParameter { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ObsConventions.FailureSnapshotEvent, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ObsConventions.SnapshotTrigger, NpgsqlDbType = NpgsqlDbType.Text });
        if (function is not null)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = function, NpgsqlDbType = NpgsqlDbType.Text });
            sql.Append(" AND function_name = $").Append(cmd.Parameters.Count);
        }

        if (traceId is not null)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = traceId, NpgsqlDbType = NpgsqlDbType.Bytea });
            sql.Append(" AND trace_id = $").Append(cmd.Parameters.Count);
        }

        sql.Append(" ORDER BY time DESC LIMIT ").Append(Math.Clamp(limit, 1, 10_000));
        cmd.CommandText = sql.ToString();
        var found = new List<StoredSnapshot>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            found.Add(new StoredSnapshot(
                reader.GetDateTime(0),
                reader.IsDBNull(1) ? null : ApiMapping.Hex(reader.GetFieldValue<byte[]>(1)),
                reader.IsDBNull(2) ? null : ApiMapping.Hex(reader.GetFieldValue<byte[]>(2)),
                reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                JsonSerializer.Deserialize<JsonElement>(reader.GetString(8))));
        }

        return found;
    }
}
