using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace Observability.Core.Tests;

/// <summary>Builds OTLP requests for tests.</summary>
internal static class Spans
{
    public static readonly DateTime Now = new(2026, 11, 23, 10, 0, 0, DateTimeKind.Utc);

    public static ulong Nanos(DateTime t) => (ulong)(t - DateTime.UnixEpoch).Ticks * 100;

    public static Span Span(string name = "op", byte traceByte = 1, byte spanByte = 2, Action<Span>? edit = null)
    {
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(Enumerable.Repeat(traceByte, 16).ToArray()),
            SpanId = ByteString.CopyFrom(Enumerable.Repeat(spanByte, 8).ToArray()),
            Name = name,
            Kind = OpenTelemetry.Proto.Trace.V1.Span.Types.SpanKind.Server,
            StartTimeUnixNano = Nanos(Now.AddSeconds(-1)),
            EndTimeUnixNano = Nanos(Now.AddSeconds(-1).AddMilliseconds(250)),
        };
        edit?.Invoke(span);
        return span;
    }

    public static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    public static KeyValue Attr(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };

    public static KeyValue Attr(string key, bool value) => new() { Key = key, Value = new AnyValue { BoolValue = value } };

    public static ExportTraceServiceRequest Request(IEnumerable<KeyValue> resource, params Span[] spans) => new()
    {
        ResourceSpans =
        {
            new ResourceSpans
            {
                Resource = new Resource { Attributes = { resource } },
                ScopeSpans = { new ScopeSpans { Scope = new InstrumentationScope { Name = "test", Version = "1" }, Spans = { spans } } },
            },
        },
    };
}
