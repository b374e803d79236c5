using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Observability.Core.Model;
using Observability.Otlp.Sampling;
using Observability.Otlp.Semantics;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace Observability.Core.Otlp;

/// <summary>Maps an OTLP trace export to storage rows, rejecting spans that cannot be stored truthfully.</summary>
public static class OtlpTraceMapper
{
    public static MappedRequest<SpanRow> Map(ExportTraceServiceRequest request, DateTime nowUtc, IngestRules rules)
    {
        var result = new MappedRequest<SpanRow>();
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var resource = ResourceView.From(resourceSpans.Resource?.Attributes);
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                foreach (var span in scopeSpans.Spans)
                {
                    var reason = Validate(span, nowUtc, rules);
                    if (reason is null)
                    {
                        result.Rows.Add(ToRow(span, scopeSpans.Scope, resource));
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

    private static string? Validate(Span span, DateTime nowUtc, IngestRules rules)
    {
        var idError = OtlpIds.CheckTraceId(span.TraceId, required: true) ?? OtlpIds.CheckSpanId(span.SpanId, "spanId", required: true);
        if (idError is not null)
        {
            return idError;
        }

        if (span.ParentSpanId.Length is not (0 or 8))
        {
            return "parentSpanId must be 8 bytes";
        }

        if (string.IsNullOrEmpty(span.Name))
        {
            return "span name is empty";
        }

        var timeError = OtlpTime.Check(span.StartTimeUnixNano, "startTimeUnixNano", nowUtc, rules)
            ?? OtlpTime.Check(span.EndTimeUnixNano, "endTimeUnixNano", nowUtc, rules);
        if (timeError is not null)
        {
            return timeError;
        }

        return span.EndTimeUnixNano < span.StartTimeUnixNano ? "endTimeUnixNano is before startTimeUnixNano" : null;
    }

    private static SpanRow ToRow(Span span, InstrumentationScope? scope, ResourceView resource)
    {
        string? faasName = null, faasVersion = null, faasInstance = null, trigger = null, invocationId = null, phase = null;
        bool? coldStart = null;
        var warmUp = false;
        int? httpStatus = null;
        double? adjustedCount = null;
        foreach (var kv in span.Attributes)
        {
            switch (kv.Key)
            {
                case FaasConventions.FaasName: faasName = AsString(kv.Value); break;
                case FaasConventions.FaasVersion: faasVersion = AsString(kv.Value); break;
                case FaasConventions.FaasInstance: faasInstance = AsString(kv.Value); break;
                case FaasConventions.FaasTrigger: trigger = AsString(kv.Value); break;
                case FaasConventions.FaasInvocationId: invocationId = AsString(kv.Value); break;
                case FaasConventions.FaasColdStart: coldStart = kv.Value?.BoolValue; break;
                case ObsConventions.WarmUp: warmUp = kv.Value?.BoolValue ?? false; break;
                case ObsConventions.ColdStartPhase: phase = AsString(kv.Value); break;
                case FaasConventions.HttpResponseStatusCode:
                case "http.status_code":
                    httpStatus = kv.Value?.ValueCase == AnyValue.ValueOneofCase.IntValue ? (int)kv.Value.IntValue : null;
                    break;
                case ObsConventions.SamplingAdjustedCount: adjustedCount = AdjustedCount(kv.Value); break;
                default: break;
            }
        }

        return new SpanRow
        {
            TraceId = span.TraceId.ToByteArray(),
            SpanId = span.SpanId.ToByteArray(),
            ParentSpanId = span.ParentSpanId.Length == 0 || OtlpIds.IsAllZero(span.ParentSpanId) ? null : span.ParentSpanId.ToByteArray(),
            TraceState = NullIfEmpty(span.TraceState),
            Name = CleanText.Clean(span.Name),
            Kind = (short)span.Kind,
            StartTime = OtlpTime.ToDateTime(span.StartTimeUnixNano),
            DurationNanos = (long)(span.EndTimeUnixNano - span.StartTimeUnixNano),
            StatusCode = (short)(span.Status?.Code ?? Status.Types.StatusCode.Unset),
            StatusMessage = NullIfEmpty(span.Status?.Message),
            Flags = (int)span.Flags,
            ServiceName = resource.ServiceName,
            ScopeName = NullIfEmpty(scope?.Name),
            ScopeVersion = NullIfEmpty(scope?.Version),
            FunctionName = faasName ?? resource.FaasName,
            FunctionVersion = faasVersion ?? resource.FaasVersion,
            FaasInstance = faasInstance ?? resource.FaasInstance,
            FaasTrigger = trigger,
            FaasInvocationId = invocationId,
            FaasColdStart = coldStart,
            WarmUp = warmUp,
            ColdStartPhase = phase,
            HttpStatusCode = httpStatus,
            AdjustedCount = adjustedCount ?? ProbabilitySampling.AdjustedCountOf(span.TraceState) ?? 1,
            Attributes = AttributeJson.Of(span.Attributes),
            Resource = resource.Json,
            Events = span.Events.Count == 0 ? "[]" : AttributeJson.Write(span.Events, WriteEvents),
            Links = span.Links.Count == 0 ? "[]" : AttributeJson.Write(span.Links, WriteLinks),
        };
    }

    private static void WriteEvents(Utf8JsonWriter w, RepeatedField<Span.Types.Event> events)
    {
        w.WriteStartArray();
        foreach (var e in events)
        {
            w.WriteStartObject();
            w.WriteString("name", CleanText.Clean(e.Name));
            w.WriteNumber("timeUnixNano", e.TimeUnixNano);
            w.WritePropertyName("attributes");
            AttributeJson.WriteObject(w, e.Attributes);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteLinks(Utf8JsonWriter w, RepeatedField<Span.Types.Link> links)
    {
        w.WriteStartArray();
        foreach (var l in links)
        {
            w.WriteStartObject();
            w.WriteString("traceId", AttributeJson.Hex(l.TraceId));
            w.WriteString("spanId", AttributeJson.Hex(l.SpanId));
            if (l.TraceState.Length > 0)
            {
                w.WriteString("traceState", CleanText.Clean(l.TraceState));
            }

            w.WritePropertyName("attributes");
            AttributeJson.WriteObject(w, l.Attributes);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private const double MaxAdjustedCount = ProbabilitySampling.MaxAdjustedCount;

    /// <summary>An adjusted count attribute, when it is one: a number from 1 (a span stands for at least itself) to 2^56.</summary>
    private static double? AdjustedCount(AnyValue? value)
    {
        double? number = value?.ValueCase switch
        {
            AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
            AnyValue.ValueOneofCase.IntValue => value.IntValue,
            _ => null,
        };
        return number is >= 1 and <= MaxAdjustedCount ? number : null;
    }

    internal static string? AsString(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => CleanText.Clean(value.StringValue),
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };

    internal static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : CleanText.Clean(s);
}

/// <summary>The resource attributes a row needs, read once per resource rather than once per span.</summary>
internal sealed record ResourceView(string ServiceName, string? FaasName, string? FaasVersion, string? FaasInstance, string Json)
{
    public const string UnknownService = "unknown_service";

    public static ResourceView From(RepeatedField<KeyValue>? attributes)
    {
        if (attributes is null || attributes.Count == 0)
        {
            return new ResourceView(UnknownService, null, null, null, "{}");
        }

        string? service = null, name = null, version = null, instance = null;
        foreach (var kv in attributes)
        {
            switch (kv.Key)
            {
                case FaasConventions.ServiceName: service = OtlpTraceMapper.AsString(kv.Value); break;
                case FaasConventions.FaasName: name = OtlpTraceMapper.AsString(kv.Value); break;
                case FaasConventions.FaasVersion: version = OtlpTraceMapper.AsString(kv.Value); break;
                case FaasConventions.FaasInstance: instance = OtlpTraceMapper.AsString(kv.Value); break;
                default: break;
            }
        }

        return new ResourceView(string.IsNullOrEmpty(service) ? UnknownService : service, name, version, instance, AttributeJson.Of(attributes));
    }
}

internal static class OtlpIds
{
    public static string? CheckTraceId(ByteString id, bool required)
    {
        if (id.Length == 0 && !required)
        {
            return null;
        }

        if (id.Length != 16)
        {
            return "traceId must be 16 bytes";
        }

        return IsAllZero(id) ? "traceId is all zero" : null;
    }

    public static string? CheckSpanId(ByteString id, string field, bool required)
    {
        if (id.Length == 0 && !required)
        {
            return null;
        }

        if (id.Length != 8)
        {
            return $"{field} must be 8 bytes";
        }

        return IsAllZero(id) ? $"{field} is all zero" : null;
    }

    public static bool IsAllZero(ByteString id) => !id.Span.ContainsAnyExcept((byte)0);
}
