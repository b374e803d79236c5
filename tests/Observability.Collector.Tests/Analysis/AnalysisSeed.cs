using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using static Observability.Testing.OtlpFactory;
using Span = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Collector.Tests.Analysis;

/// <summary>Spans as the sidecar sends them, at given times, for the analysis API's tests.</summary>
internal static class AnalysisSeed
{
    /// <summary>A function's invocation (a SERVER span) at <paramref name="start"/>.</summary>
    public static Span Invocation(DateTime start, double milliseconds, bool cold = false, bool warmUp = false, bool error = false, double? adjustedCount = null, string route = "/items/{id}")
    {
        var span = new Span
        {
            TraceId = NewTraceId(),
            SpanId = NewSpanId(),
            Name = "GET " + route,
            Kind = Span.Types.SpanKind.Server,
            StartTimeUnixNano = Nanos(start),
            EndTimeUnixNano = Nanos(start) + (ulong)(milliseconds * 1e6),
            Attributes = { Attr("faas.trigger", "http"), Attr("faas.coldstart", cold), Attr("http.route", route) },
        };
        if (warmUp)
        {
            span.Attributes.Add(Attr("obs.warmup", true));
        }

        if (adjustedCount is { } count)
        {
            span.Attributes.Add(new KeyValue { Key = "obs.sampling.adjusted_count", Value = new AnyValue { DoubleValue = count } });
        }

        if (error)
        {
            span.Status = new Status { Code = Status.Types.StatusCode.Error };
        }

        return span;
    }

    /// <summary>A span of another kind, which the function numbers leave out.</summary>
    public static Span Internal(DateTime start, double milliseconds) => new()
    {
        TraceId = NewTraceId(),
        SpanId = NewSpanId(),
        Name = "db query",
        Kind = Span.Types.SpanKind.Internal,
        StartTimeUnixNano = Nanos(start),
        EndTimeUnixNano = Nanos(start) + (ulong)(milliseconds * 1e6),
    };

    /// <summary>
    /// A cold-start record as ColdStartRecorder writes it: a faas.coldstart root linked to the invocation, with the
    /// phases (milliseconds, null to leave one out) as children; runtime_start and app_init under init.
    /// </summary>
    public static Span[] ColdStartRecord(Span invocation, double? spawn, double init, double? runtimeStart, double firstRequest, string[]? topAssemblies = null, string[]? topMethods = null)
    {
        var traceId = NewTraceId();
        var processStart = invocation.StartTimeUnixNano + (ulong)((spawn ?? 0) * 1e6);
        var listening = processStart + (ulong)(init * 1e6);
        var responseSent = listening + (ulong)(firstRequest * 1e6);
        var root = new Span
        {
            TraceId = traceId,
            SpanId = NewSpanId(),
            Name = "faas.coldstart",
            Kind = Span.Types.SpanKind.Internal,
            StartTimeUnixNano = invocation.StartTimeUnixNano,
            EndTimeUnixNano = responseSent,
            Attributes = { new KeyValue { Key = "obs.coldstart.init_ms", Value = new AnyValue { DoubleValue = init } } },
            Links = { new Span.Types.Link { TraceId = invocation.TraceId, SpanId = invocation.SpanId } },
        };
        if (topAssemblies is not null)
        {
            root.Attributes.Add(StringArray("obs.startup.top_assemblies", topAssemblies));
            root.Attributes.Add(StringArray("obs.startup.top_methods", topMethods ?? []));
            root.Attributes.Add(Attr("obs.startup.assemblies_loaded", topAssemblies.Length * 10L));
        }

        var spans = new List<Span> { root };
        Span Phase(string phase, ByteString parent, ulong from, ulong to)
        {
            var span = new Span
            {
                TraceId = traceId,
                SpanId = NewSpanId(),
                ParentSpanId = parent,
                Name = "coldstart." + phase,
                Kind = Span.Types.SpanKind.Internal,
                StartTimeUnixNano = from,
                EndTimeUnixNano = to,
                Attributes = { Attr("obs.coldstart.phase", phase) },
            };
            spans.Add(span);
            return span;
        }

        if (spawn is not null)
        {
            Phase("spawn", root.SpanId, invocation.StartTimeUnixNano, processStart);
        }

        var initSpan = Phase("init", root.SpanId, processStart, listening);
        if (runtimeStart is { } runtime)
        {
            var ready = processStart + (ulong)(runtime * 1e6);
            Phase("runtime_start", initSpan.SpanId, processStart, ready);
            Phase("app_init", initSpan.SpanId, ready, listening);
        }

        Phase("first_request", root.SpanId, listening, responseSent);
        return [.. spans];
    }

    /// <summary>One export from one function version's sidecar.</summary>
    public static ExportTraceServiceRequest Export(string function, string version, params Span[] spans)
    {
        var resource = new Resource
        {
            Attributes = { Attr("service.name", function), Attr("faas.name", function), Attr("faas.version", version), Attr("faas.instance", function + "-" + version) },
        };
        return new ExportTraceServiceRequest
        {
            ResourceSpans = { new ResourceSpans { Resource = resource, ScopeSpans = { new ScopeSpans { Spans = { spans } } } } },
        };
    }

    /// <summary>The lower weighted percentile, written out here apart from the collector's SQL: the smallest value whose cumulative weight reaches p of the total.</summary>
    public static double WeightedPercentile(IEnumerable<(double Value, double Weight)> samples, double p)
    {
        var sorted = samples.OrderBy(s => s.Value).ToList();
        var total = sorted.Sum(s => s.Weight);
        double cumulative = 0;
        for (var i = 0; i < sorted.Count; i++)
        {
            cumulative += sorted[i].Weight;
            // Equal values count together: the cumulative weight of a value includes every copy of it.
            if ((i + 1 == sorted.Count || sorted[i + 1].Value != sorted[i].Value) && cumulative >= p * total)
            {
                return sorted[i].Value;
            }
        }

        throw new InvalidOperationException("no samples");
    }

    public static double Percentile(IEnumerable<double> values, double p) => WeightedPercentile(values.Select(v => (v, 1.0)), p);

    private static KeyValue StringArray(string key, string[] values) => new()
    {
        Key = key,
        Value = new AnyValue { ArrayValue = new ArrayValue { Values = { values.Select(v => new AnyValue { StringValue = v }) } } },
    };
}
