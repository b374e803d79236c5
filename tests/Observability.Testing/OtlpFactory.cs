using System.Net.Http.Headers;
using System.Security.Cryptography;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace Observability.Testing;

/// <summary>Builds OTLP requests with random ids and timestamps near now.</summary>
public static class OtlpFactory
{
    public static ulong Nanos(DateTime utc) => (ulong)(utc - DateTime.UnixEpoch).Ticks * 100;

    public static ByteString NewTraceId() => ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16));

    public static ByteString NewSpanId() => ByteString.CopyFrom(RandomNumberGenerator.GetBytes(8));

    public static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    public static KeyValue Attr(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };

    public static KeyValue Attr(string key, bool value) => new() { Key = key, Value = new AnyValue { BoolValue = value } };

    public static Span Span(string name, ByteString? traceId = null, Span.Types.SpanKind kind = OpenTelemetry.Proto.Trace.V1.Span.Types.SpanKind.Server, TimeSpan? duration = null, params KeyValue[] attributes)
    {
        var start = DateTime.UtcNow.AddSeconds(-1);
        return new Span
        {
            TraceId = traceId ?? NewTraceId(),
            SpanId = NewSpanId(),
            Name = name,
            Kind = kind,
            StartTimeUnixNano = Nanos(start),
            EndTimeUnixNano = Nanos(start + (duration ?? TimeSpan.FromMilliseconds(20))),
            Attributes = { attributes },
        };
    }

    /// <summary>One request of spans from one service (and function, when given).</summary>
    public static ExportTraceServiceRequest Traces(string service, string? function, params Span[] spans)
    {
        var resource = new Resource { Attributes = { Attr("service.name", service) } };
        if (function is not null)
        {
            resource.Attributes.Add([Attr("faas.name", function), Attr("faas.version", "1"), Attr("faas.instance", function + "-0")]);
        }

        return new ExportTraceServiceRequest
        {
            ResourceSpans = { new ResourceSpans { Resource = resource, ScopeSpans = { new ScopeSpans { Spans = { spans } } } } },
        };
    }

    /// <summary><paramref name="count"/> server spans, each its own trace.</summary>
    public static ExportTraceServiceRequest ManyTraces(string service, string? function, int count) =>
        Traces(service, function, Enumerable.Range(0, count).Select(i => Span("op-" + (i % 5), attributes: Attr("faas.trigger", "http"))).ToArray());

    public static ExportLogsServiceRequest Logs(string service, params LogRecord[] records) => new()
    {
        ResourceLogs =
        {
            new ResourceLogs
            {
                Resource = new Resource { Attributes = { Attr("service.name", service) } },
                ScopeLogs = { new ScopeLogs { LogRecords = { records } } },
            },
        },
    };

    public static ByteArrayContent Protobuf(IMessage message)
    {
        var content = new ByteArrayContent(message.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }
}
