using System.Security.Cryptography;
using Google.Protobuf;
using Observability.Core.Model;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Logs.V1;

namespace Observability.Core.Otlp;

/// <summary>Maps an OTLP logs export to storage rows.</summary>
public static class OtlpLogMapper
{
    public static MappedRequest<LogRow> Map(ExportLogsServiceRequest request, DateTime nowUtc, IngestRules rules)
    {
        var result = new MappedRequest<LogRow>();
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var resource = ResourceView.From(resourceLogs.Resource?.Attributes);
            var resourceBytes = resourceLogs.Resource?.ToByteArray() ?? [];
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                foreach (var record in scopeLogs.LogRecords)
                {
                    // The spec: when the event time is unknown, the observed time stands for it.
                    var time = record.TimeUnixNano != 0 ? record.TimeUnixNano : record.ObservedTimeUnixNano;
                    var reason = OtlpIds.CheckTraceId(record.TraceId, required: false)
                        ?? OtlpIds.CheckSpanId(record.SpanId, "spanId", required: false)
                        ?? OtlpTime.Check(time, "timeUnixNano", nowUtc, rules);
                    if (reason is null)
                    {
                        result.Rows.Add(ToRow(record, time, scopeLogs, resource, resourceBytes));
                    }
                    else
                    {
                        result.Reject(reason);
                    }
                }
            }
        }

        return result;
    }

    private static LogRow ToRow(LogRecord record, ulong time, ScopeLogs scope, ResourceView resource, byte[] resourceBytes)
    {
        string? faasName = resource.FaasName, faasVersion = resource.FaasVersion, faasInstance = resource.FaasInstance;
        return new LogRow
        {
            LogId = ContentId(record, scope.Scope?.Name, resourceBytes),
            Time = OtlpTime.ToDateTime(time),
            ObservedTime = OtlpTime.ToDateTime(record.ObservedTimeUnixNano != 0 ? record.ObservedTimeUnixNano : time),
            TraceId = record.TraceId.Length == 0 ? null : record.TraceId.ToByteArray(),
            SpanId = record.SpanId.Length == 0 ? null : record.SpanId.ToByteArray(),
            SeverityNumber = (short)record.SeverityNumber,
            SeverityText = OtlpTraceMapper.NullIfEmpty(record.SeverityText),
            EventName = OtlpTraceMapper.NullIfEmpty(record.EventName),
            ServiceName = resource.ServiceName,
            FunctionName = faasName,
            FunctionVersion = faasVersion,
            FaasInstance = faasInstance,
            ScopeName = OtlpTraceMapper.NullIfEmpty(scope.Scope?.Name),
            Body = AttributeJson.OfValue(record.Body),
            Attributes = AttributeJson.Of(record.Attributes),
            Resource = resource.Json,
        };
    }

    // Log records have no id of their own; a hash of their content makes a retried export land once.
    // OTLP messages have no maps, so their serialization is deterministic.
    private static byte[] ContentId(LogRecord record, string? scopeName, byte[] resourceBytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(resourceBytes);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(scopeName ?? string.Empty));
        hash.AppendData(record.ToByteArray());
        return hash.GetHashAndReset()[..16];
    }
}
