using System.Text.Json;
using Google.Protobuf;
using Observability.Core.Model;
using Observability.Core.Otlp;
using OpenTelemetry.Proto.Common.V1;
using static Observability.Core.Tests.Spans;

namespace Observability.Core.Tests;

public sealed class OtlpTraceMapperTests
{
    private static readonly IngestRules Rules = new();

    [Fact]
    public void Faas_attributes_are_promoted_from_span_and_resource()
    {
        var span = Span("GET /", edit: s => s.Attributes.Add([
            Attr("faas.trigger", "http"), Attr("faas.coldstart", true), Attr("faas.invocation_id", "inv-1"),
            Attr("obs.warmup", true), Attr("http.response.status_code", 503), Attr("obs.coldstart.phase", "init")]));
        var result = OtlpTraceMapper.Map(Request([Attr("service.name", "shop"), Attr("faas.name", "cart"), Attr("faas.version", "3"), Attr("faas.instance", "i-9")], span), Now, Rules);

        var row = Assert.Single(result.Rows);
        Assert.Equal(0, result.Rejected);
        Assert.Equal(("shop", "cart", "3", "i-9"), (row.ServiceName, row.FunctionName, row.FunctionVersion, row.FaasInstance));
        Assert.Equal(("http", "inv-1", true, true, 503, "init"), (row.FaasTrigger, row.FaasInvocationId, row.FaasColdStart, row.WarmUp, row.HttpStatusCode, row.ColdStartPhase));
        Assert.Equal(SpanKinds.Server, row.Kind);
        Assert.Equal(250_000_000, row.DurationNanos);
        Assert.Equal("shop", JsonDocument.Parse(row.Resource).RootElement.GetProperty("service.name").GetString());
    }

    [Fact]
    public void Missing_service_name_becomes_unknown_service()
    {
        var row = Assert.Single(OtlpTraceMapper.Map(Request([], Span()), Now, Rules).Rows);
        Assert.Equal("unknown_service", row.ServiceName);
        Assert.Null(row.FunctionName);
    }

    [Fact]
    public void Attribute_values_of_every_kind_become_plain_json()
    {
        var span = Span(edit: s => s.Attributes.Add([
            Attr("s", "x"), Attr("i", long.MaxValue), Attr("b", false),
            new KeyValue { Key = "d", Value = new AnyValue { DoubleValue = 1.5 } },
            new KeyValue { Key = "nan", Value = new AnyValue { DoubleValue = double.NaN } },
            new KeyValue { Key = "bytes", Value = new AnyValue { BytesValue = ByteString.CopyFrom(1, 2, 3) } },
            new KeyValue { Key = "arr", Value = new AnyValue { ArrayValue = new ArrayValue { Values = { new AnyValue { IntValue = 1 }, new AnyValue { StringValue = "two" } } } } },
            new KeyValue { Key = "kv", Value = new AnyValue { KvlistValue = new KeyValueList { Values = { Attr("inner", "v") } } } },
            new KeyValue { Key = "empty" }]));
        var attributes = JsonDocument.Parse(Assert.Single(OtlpTraceMapper.Map(Request([], span), Now, Rules).Rows).Attributes).RootElement;

        Assert.Equal("x", attributes.GetProperty("s").GetString());
        Assert.Equal(long.MaxValue, attributes.GetProperty("i").GetInt64());
        Assert.False(attributes.GetProperty("b").GetBoolean());
        Assert.Equal(1.5, attributes.GetProperty("d").GetDouble());
        Assert.Equal("NaN", attributes.GetProperty("nan").GetString());
        Assert.Equal("AQID", attributes.GetProperty("bytes").GetString());
        Assert.Equal("two", attributes.GetProperty("arr")[1].GetString());
        Assert.Equal("v", attributes.GetProperty("kv").GetProperty("inner").GetString());
        Assert.Equal(JsonValueKind.Null, attributes.GetProperty("empty").ValueKind);
    }

    public static TheoryData<string, Action<OpenTelemetry.Proto.Trace.V1.Span>, string> BadSpans => new()
    {
        { "short trace id", s => s.TraceId = ByteString.CopyFrom(new byte[8]), "traceId must be 16 bytes" },
        { "zero trace id", s => s.TraceId = ByteString.CopyFrom(new byte[16]), "traceId is all zero" },
        { "long span id", s => s.SpanId = ByteString.CopyFrom(new byte[9]), "spanId must be 8 bytes" },
        { "zero span id", s => s.SpanId = ByteString.CopyFrom(new byte[8]), "spanId is all zero" },
        { "bad parent", s => s.ParentSpanId = ByteString.CopyFrom(new byte[3]), "parentSpanId must be 8 bytes" },
        { "no name", s => s.Name = string.Empty, "span name is empty" },
        { "no start", s => s.StartTimeUnixNano = 0, "startTimeUnixNano is missing" },
        { "end before start", s => s.EndTimeUnixNano = s.StartTimeUnixNano - 1, "endTimeUnixNano is before startTimeUnixNano" },
        { "too old", s => (s.StartTimeUnixNano, s.EndTimeUnixNano) = (Nanos(Now.AddDays(-8)), Nanos(Now.AddDays(-8))), "older than the retention" },
        { "future", s => (s.StartTimeUnixNano, s.EndTimeUnixNano) = (Nanos(Now.AddHours(2)), Nanos(Now.AddHours(2))), "in the future" },
        { "year 1970", s => s.StartTimeUnixNano = 1, "older than the retention" },
        { "beyond year 9999", s => s.EndTimeUnixNano = ulong.MaxValue, "in the future" },
    };

    [Theory]
    [MemberData(nameof(BadSpans))]
    public void Invalid_spans_are_rejected_with_a_reason_and_the_rest_kept(string _, Action<OpenTelemetry.Proto.Trace.V1.Span> spoil, string reason)
    {
        var result = OtlpTraceMapper.Map(Request([], Span("good"), Span("bad", spanByte: 3, edit: spoil)), Now, Rules);

        Assert.Equal("good", Assert.Single(result.Rows).Name);
        Assert.Equal(1, result.Rejected);
        Assert.Contains(reason, result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_message_stays_short_when_many_spans_are_bad()
    {
        var bad = Enumerable.Range(0, 10_000).Select(i => Span(edit: s => s.Name = string.Empty)).ToArray();
        var result = OtlpTraceMapper.Map(Request([], bad), Now, Rules);
        Assert.Equal(10_000, result.Rejected);
        Assert.True(result.ErrorMessage!.Length < 200, result.ErrorMessage);
    }

    [Fact]
    public void Zero_parent_span_id_means_a_root_span()
    {
        var row = Assert.Single(OtlpTraceMapper.Map(Request([], Span(edit: s => s.ParentSpanId = ByteString.CopyFrom(new byte[8]))), Now, Rules).Rows);
        Assert.Null(row.ParentSpanId);
    }

    [Fact]
    public void Nul_characters_and_lone_surrogates_are_replaced_so_postgres_can_store_them()
    {
        var span = Span("a\0b", edit: s => s.Attributes.Add(Attr("k\0", "x\uD800y")));
        var row = Assert.Single(OtlpTraceMapper.Map(Request([], span), Now, Rules).Rows);
        Assert.Equal("a\uFFFDb", row.Name);
        Assert.DoesNotContain("\\u0000", row.Attributes, StringComparison.Ordinal);
        Assert.Equal("x\uFFFDy", JsonDocument.Parse(row.Attributes).RootElement.GetProperty("k\uFFFD").GetString());
    }

    [Fact]
    public void Valid_surrogate_pairs_are_kept() => Assert.Equal("🙂", CleanText.Clean("🙂"));
}
