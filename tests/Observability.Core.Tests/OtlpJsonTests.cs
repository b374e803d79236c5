using Observability.Core.Otlp;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Core.Tests;

public sealed class OtlpJsonTests
{
    private static ExportTraceServiceRequest Parse(string json) => OtlpJson.Parse<ExportTraceServiceRequest>(System.Text.Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Reads_hex_ids_in_either_case_numbers_or_strings_and_integer_enums()
    {
        var request = Parse("""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
              "scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","parentSpanId":"EEE19B7EC3C1B173",
                "name":"op","kind":2,"startTimeUnixNano":1544712660000000000,"endTimeUnixNano":"1544712661000000000",
                "attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"m","value":{"intValue":7}}],
                "status":{"code":2,"message":"boom"},"unknownField":true}]}]}]}
            """);
        var span = request.ResourceSpans[0].ScopeSpans[0].Spans[0];
        Assert.Equal("5b8efff798038103d269b633813fc60c", Convert.ToHexStringLower(span.TraceId.Span));
        Assert.Equal("eee19b7ec3c1b174", Convert.ToHexStringLower(span.SpanId.Span));
        Assert.Equal("eee19b7ec3c1b173", Convert.ToHexStringLower(span.ParentSpanId.Span));
        Assert.Equal(OpenTelemetry.Proto.Trace.V1.Span.Types.SpanKind.Server, span.Kind);
        Assert.Equal(1544712660000000000UL, span.StartTimeUnixNano);
        Assert.Equal(1544712661000000000UL, span.EndTimeUnixNano);
        Assert.Equal(42, span.Attributes[0].Value.IntValue);
        Assert.Equal(7, span.Attributes[1].Value.IntValue);
        Assert.Equal(OpenTelemetry.Proto.Trace.V1.Status.Types.StatusCode.Error, span.Status.Code);
    }

    [Fact]
    public void Reads_log_ids_and_snake_case_names()
    {
        var request = OtlpJson.Parse<ExportLogsServiceRequest>("""
            {"resource_logs":[{"scope_logs":[{"log_records":[{"trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174","body":{"stringValue":"hi"}}]}]}]}
            """u8);
        var record = request.ResourceLogs[0].ScopeLogs[0].LogRecords[0];
        Assert.Equal("eee19b7ec3c1b174", Convert.ToHexStringLower(record.SpanId.Span));
        Assert.Equal("hi", record.Body.StringValue);
    }

    [Theory]
    [InlineData("{", "malformed JSON")]
    [InlineData("[]", "must be an object")]
    [InlineData("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}""", "traceId is not hex")]
    [InlineData("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}""", "invalid OTLP JSON")]
    [InlineData("""{"resourceSpans":"nope"}""", "invalid OTLP JSON")]
    public void Bad_json_is_a_format_error_with_a_reason(string json, string reason)
    {
        var e = Assert.Throws<OtlpFormatException>(() => Parse(json));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }
}
