using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using static Observability.Testing.OtlpFactory;
using OtlpSpan = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Dashboards.Tests.Prometheus;

/// <summary>
/// One second of traffic of a function version, as the sidecar would export it: invocations of several durations
/// (some over the latency SLOs' 0.5 s), an error with its failure snapshot, a cold start with its cold-start
/// record (a root span linked to the invocation, and its init phase), a warm-up ping, and spans sampled at 1/4
/// that stand for 4 each.
/// </summary>
internal static class SyntheticTraffic
{
    private static readonly double[] Seconds = [0.004, 0.02, 0.06, 0.2, 0.4, 0.7];

    /// <summary>Invocations one tick stands for: 6 plain + 1 error + 1 cold + 2 sampled spans at 4 each.</summary>
    public const double InvocationsPerTick = 6 + 1 + 1 + (2 * 4);

    /// <param name="function">faas.name.</param>
    /// <param name="version">faas.version.</param>
    /// <param name="tick">The tick's number (varies the init durations).</param>
    /// <param name="start">
    /// When the tick's spans start, all of them: a count "as of" a time between two ticks then holds whole ticks
    /// only, the same mix of errors and slow invocations as every other (the comparison of `obs slo status` with
    /// the rules relies on it).
    /// </param>
    public static (ExportTraceServiceRequest Traces, ExportLogsServiceRequest Logs) Tick(string function, string version, int tick, DateTime start)
    {
        var now = start;
        var spans = new List<OtlpSpan>();
        OtlpSpan Invocation(double seconds, params KeyValue[] extra)
        {
            var span = SpanFrom(now, "GET /" + function, OtlpSpan.Types.SpanKind.Server, seconds, NewTraceId());
            span.Attributes.Add(Attr("faas.trigger", "http"));
            span.Attributes.Add(extra);
            spans.Add(span);
            return span;
        }

        foreach (var s in Seconds)
        {
            Invocation(s, Attr("http.response.status_code", 200));
        }

        var failed = Invocation(0.03, Attr("http.response.status_code", 500), new KeyValue { Key = "obs.sampling.adjusted_count", Value = new AnyValue { DoubleValue = 1 } });
        failed.Status = new Status { Code = Status.Types.StatusCode.Error, Message = "sample failure" };

        var cold = Invocation(0.9, Attr("faas.coldstart", true), Attr("http.response.status_code", 200));
        // The cold-start record: a trace of its own, linked to the invocation that paid for it; version 2 starts slower.
        var initSeconds = (version == "2" ? 0.6 : 0.15) + (tick % 5 * 0.05);
        var record = SpanFrom(now, "faas.coldstart", OtlpSpan.Types.SpanKind.Internal, initSeconds + 0.05, NewTraceId());
        record.Links.Add(new OtlpSpan.Types.Link { TraceId = cold.TraceId, SpanId = cold.SpanId });
        var init = SpanFrom(now, "coldstart.init", OtlpSpan.Types.SpanKind.Internal, initSeconds, record.TraceId);
        init.ParentSpanId = record.SpanId;
        init.Attributes.Add(Attr("obs.coldstart.phase", "init"));
        spans.Add(record);
        spans.Add(init);

        Invocation(0.002, Attr("obs.warmup", true), Attr("http.response.status_code", 200));

        for (var i = 0; i < 2; i++)
        {
            Invocation(0.015, Attr("http.response.status_code", 200)).TraceState = "ot=th:c"; // threshold 1/4: stands for 4
        }

        var traces = new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = ResourceOf(function, version), ScopeSpans = { new ScopeSpans { Spans = { spans } } } } } };
        var snapshot = new LogRecord
        {
            TimeUnixNano = Nanos(now),
            ObservedTimeUnixNano = Nanos(now),
            EventName = "obs.failure_snapshot",
            TraceId = failed.TraceId,
            SpanId = failed.SpanId,
            SeverityNumber = SeverityNumber.Error,
            Body = new AnyValue { StringValue = "{\"request\":{\"method\":\"GET\"}}" },
            Attributes = { Attr("obs.snapshot.trigger", "status_5xx") },
        };
        var logs = new ExportLogsServiceRequest { ResourceLogs = { new ResourceLogs { Resource = ResourceOf(function, version), ScopeLogs = { new ScopeLogs { LogRecords = { snapshot } } } } } };
        return (traces, logs);
    }

    /// <summary>Spans no function sends, for filling the collector's queue.</summary>
    public static ExportTraceServiceRequest Noise(int count) => ManyTraces("noise", null, count);

    /// <summary>A request with one good span and one the collector must reject (end before start).</summary>
    public static ExportTraceServiceRequest PartlyInvalid()
    {
        var now = DateTime.UtcNow;
        var bad = SpanAt(now, "bad", OtlpSpan.Types.SpanKind.Server, 0.01, NewTraceId());
        (bad.StartTimeUnixNano, bad.EndTimeUnixNano) = (bad.EndTimeUnixNano, bad.StartTimeUnixNano);
        return Traces("noise", null, SpanAt(now, "good", OtlpSpan.Types.SpanKind.Server, 0.01, NewTraceId()), bad);
    }

    private static OtlpSpan SpanFrom(DateTime start, string name, OtlpSpan.Types.SpanKind kind, double seconds, ByteString traceId) => new()
    {
        TraceId = traceId,
        SpanId = NewSpanId(),
        Name = name,
        Kind = kind,
        StartTimeUnixNano = Nanos(start),
        EndTimeUnixNano = Nanos(start.AddSeconds(seconds)),
    };

    private static OtlpSpan SpanAt(DateTime end, string name, OtlpSpan.Types.SpanKind kind, double seconds, ByteString traceId) => new()
    {
        TraceId = traceId,
        SpanId = NewSpanId(),
        Name = name,
        Kind = kind,
        StartTimeUnixNano = Nanos(end.AddSeconds(-seconds)),
        EndTimeUnixNano = Nanos(end),
    };

    private static Resource ResourceOf(string function, string version) => new()
    {
        Attributes =
        {
            Attr("service.name", function),
            Attr("faas.name", function),
            Attr("faas.version", version),
            Attr("faas.instance", $"{function}-{version}-0"),
        },
    };
}
