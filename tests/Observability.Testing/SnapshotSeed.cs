using System.Text.Json.Nodes;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Resource.V1;
using static Observability.Testing.OtlpFactory;

namespace Observability.Testing;

/// <summary>Failure snapshots as the sidecar sends them: an OTLP log record whose body is the snapshot document.</summary>
public static class SnapshotSeed
{
    public sealed record Snapshot(
        string Function,
        string Version,
        DateTime Time,
        string Trigger,
        int Status,
        string Url,
        string? ExceptionType = null,
        string? Stack = null,
        JsonObject? Dump = null,
        string Message = "it broke")
    {
        public ByteString TraceId { get; } = NewTraceId();

        public ByteString SpanId { get; } = NewSpanId();

        public string TraceHex => Convert.ToHexStringLower(TraceId.ToByteArray());
    }

    /// <summary>The function's last log lines in every snapshot.</summary>
    public static readonly string[] LogLines = ["loading order 42", "order 42 has no customer"];

    public static ExportLogsServiceRequest Export(params Snapshot[] snapshots) => new()
    {
        ResourceLogs =
        {
            snapshots.GroupBy(s => (s.Function, s.Version)).Select(g => new ResourceLogs
            {
                Resource = new Resource
                {
                    Attributes = { Attr("service.name", g.Key.Function), Attr("faas.name", g.Key.Function), Attr("faas.version", g.Key.Version), Attr("faas.instance", g.Key.Function + "-" + g.Key.Version) },
                },
                ScopeLogs = { new ScopeLogs { LogRecords = { g.Select(Record) } } },
            }),
        },
    };

    private static LogRecord Record(Snapshot s)
    {
        var body = new JsonObject
        {
            ["trigger"] = s.Trigger,
            ["time"] = s.Time.ToString("O"),
            ["function"] = new JsonObject { ["name"] = s.Function, ["version"] = s.Version, ["instance"] = s.Function + "-" + s.Version },
            ["traceId"] = s.TraceHex,
            ["request"] = new JsonObject { ["method"] = "GET", ["url"] = s.Url, ["protocol"] = "HTTP/1.1", ["headers"] = new JsonObject { ["authorization"] = "***" }, ["bodyBytes"] = 0 },
            ["response"] = new JsonObject { ["status"] = s.Status, ["headers"] = new JsonObject { ["content-type"] = "text/plain" }, ["bodyBytes"] = 12 },
            ["logs"] = new JsonArray([.. LogLines.Select(l => (JsonNode)l)]),
            ["process"] = new JsonObject { ["pid"] = 4242, ["uptimeSeconds"] = 12.5 },
            ["environment"] = new JsonObject { ["DOTNET_ENVIRONMENT"] = "Production", ["DB_PASSWORD"] = "***" },
        };
        if (s.ExceptionType is not null)
        {
            body["exceptions"] = new JsonArray(new JsonObject { ["type"] = s.ExceptionType, ["message"] = s.Message, ["stackTrace"] = s.Stack });
        }

        if (s.Dump is not null)
        {
            body["dump"] = s.Dump.DeepClone();
        }

        var record = new LogRecord
        {
            TimeUnixNano = Nanos(s.Time),
            ObservedTimeUnixNano = Nanos(s.Time),
            SeverityNumber = SeverityNumber.Error,
            SeverityText = "ERROR",
            EventName = "obs.failure_snapshot",
            Body = ToAnyValue(body),
            TraceId = s.TraceId,
            SpanId = s.SpanId,
            Attributes = { Attr("obs.snapshot.trigger", s.Trigger), Attr("http.response.status_code", (long)s.Status), Attr("http.request.method", "GET") },
        };
        if (s.ExceptionType is not null)
        {
            record.Attributes.Add([Attr("exception.type", s.ExceptionType), Attr("exception.message", s.Message), Attr("exception.stacktrace", s.Stack ?? string.Empty)]);
        }

        return record;
    }

    private static AnyValue ToAnyValue(JsonNode? node) => node switch
    {
        null => new AnyValue(),
        JsonObject o => new AnyValue { KvlistValue = new KeyValueList { Values = { o.Select(kv => new KeyValue { Key = kv.Key, Value = ToAnyValue(kv.Value) }) } } },
        JsonArray a => new AnyValue { ArrayValue = new ArrayValue { Values = { a.Select(ToAnyValue) } } },
        JsonValue v when v.TryGetValue<string>(out var text) => new AnyValue { StringValue = text },
        JsonValue v when v.TryGetValue<int>(out var i) => new AnyValue { IntValue = i },
        JsonValue v when v.TryGetValue<long>(out var l) => new AnyValue { IntValue = l },
        JsonValue v => new AnyValue { DoubleValue = v.GetValue<double>() },
        _ => new AnyValue(),
    };
}
