using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using RpcStatus = Google.Rpc.Status;
using SpanStatus = OpenTelemetry.Proto.Trace.V1.Status;

namespace Observability.Collector.Tests;

/// <summary>
/// A corpus of bad OTLP input sent to a real collector. Each kind is answered as the OTLP spec says: a request
/// the collector cannot read gets 400/413/415 with a google.rpc.Status body in the request's own encoding; a
/// readable request with invalid spans gets 200 with partial_success naming the problem. Nothing rejected is
/// stored, and after the whole corpus the collector still ingests and serves good data.
/// </summary>
public sealed class BadInputTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const int BodyCap = 64 * 1024;
    private const string Protobuf = "application/x-protobuf";
    private const string Json = "application/json";
    private const string CaseKey = "test.case";
    private const int InvalidArgument = 3;

    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() =>
        _collector = await CollectorRunner.StartAsync(database.ConnectionString, o => o.MaxRequestBodyBytes = BodyCap);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    /// <summary>A request the collector cannot take at all: the status it must answer, and the request (given a marker its spans carry).</summary>
    private sealed record Refusal(HttpStatusCode Status, Func<string, HttpRequestMessage> Request);

    /// <summary>A span spoiled in one way, and what partial_success.error_message must say about it.</summary>
    private sealed record Rejection(string Reason, Action<Span> Spoil);

    private static readonly Dictionary<string, Refusal> Refusals = new()
    {
        // Bodies that are not OTLP.
        ["malformed protobuf"] = new(HttpStatusCode.BadRequest, _ => Post(Protobuf, [0x0A, 0x05, 0x0A, 0x01])),
        ["protobuf with an invalid wire type"] = new(HttpStatusCode.BadRequest, _ => Post(Protobuf, [0x0F, 0x00, 0x00])),
        // proto3 strings and JSON text (RFC 8259) must both be UTF-8.
        ["protobuf string that is not UTF-8"] = new(HttpStatusCode.BadRequest, ProtobufWithInvalidUtf8),
        ["protobuf nested deeper than the parser allows"] = new(HttpStatusCode.BadRequest, m => Post(Protobuf, Export(DeeplyNested(GoodSpan(m), 50)).ToByteArray())),
        ["malformed JSON"] = new(HttpStatusCode.BadRequest, _ => PostJson("""{"resourceSpans": [""")),
        ["JSON array instead of an object"] = new(HttpStatusCode.BadRequest, _ => PostJson("[]")),
        ["JSON string instead of an object"] = new(HttpStatusCode.BadRequest, _ => PostJson("\"spans\"")),
        ["JSON null"] = new(HttpStatusCode.BadRequest, _ => PostJson("null")),
        ["empty JSON body"] = new(HttpStatusCode.BadRequest, _ => PostJson(string.Empty)),
        ["JSON that is not UTF-8"] = new(HttpStatusCode.BadRequest, m => Post(Json, Utf8With(JsonExport(JsonSpan(m, name: "\"@@\"")), "@@", [0xC3, 0x28, 0xFF]))),
        ["JSON nested deeper than 64"] = new(HttpStatusCode.BadRequest, m => PostJson(JsonExport(JsonSpan(m, extraAttributes: $$$""",{"key":"deep","value":{{{DeepJsonValue(20)}}}}""")))),
        ["JSON with a non-hex trace id"] = new(HttpStatusCode.BadRequest, m => PostJson(JsonExport(JsonSpan(m, traceId: "\"not-hex-not-hex-not-hex-not-hex\"")))),
        ["JSON with an odd-length hex span id"] = new(HttpStatusCode.BadRequest, m => PostJson(JsonExport(JsonSpan(m, spanId: "\"abc\"")))),
        ["JSON with a number for a trace id"] = new(HttpStatusCode.BadRequest, m => PostJson(JsonExport(JsonSpan(m, traceId: "12345")))),
        ["JSON with an object where the span list belongs"] = new(HttpStatusCode.BadRequest, m => PostJson($$$"""{"resourceSpans":[{"scopeSpans":[{"spans":{"0":{{{JsonSpan(m)}}}}}]}]}""")),
        ["JSON timestamp that is not a number"] = new(HttpStatusCode.BadRequest, m => PostJson(JsonExport(JsonSpan(m, start: "\"yesterday\"")))),
        ["JSON logs with a non-hex trace id"] = new(HttpStatusCode.BadRequest, m => PostJson(JsonLogs(m, traceId: "\"zz0123456789abcdef0123456789abcd\""), "/v1/logs")),

        // Bodies that are not gzip although they say so.
        ["truncated gzip"] = new(HttpStatusCode.BadRequest, m => Post(Protobuf, Gzip(ManySpans(m))[..^40], "gzip")),
        ["gzip cut off after its header"] = new(HttpStatusCode.BadRequest, m => Post(Protobuf, Gzip(ManySpans(m))[..10], "gzip")),
        ["gzip header followed by garbage"] = new(HttpStatusCode.BadRequest, _ => Post(Protobuf, [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0xFF, .. Enumerable.Repeat((byte)0xFF, 32)], "gzip")),
        ["Content-Encoding gzip on a body that is not gzip"] = new(HttpStatusCode.BadRequest, m => Post(Protobuf, ManySpans(m), "gzip")),

        // Media types and encodings the collector does not speak.
        ["text/plain Content-Type"] = new(HttpStatusCode.UnsupportedMediaType, m => Post("text/plain", ManySpans(m))),
        ["no Content-Type"] = new(HttpStatusCode.UnsupportedMediaType, m => Post(null, ManySpans(m))),
        ["Content-Encoding br"] = new(HttpStatusCode.UnsupportedMediaType, m => Post(Protobuf, ManySpans(m), "br")),
        ["Content-Encoding br on JSON"] = new(HttpStatusCode.UnsupportedMediaType, m => Post(Json, Encoding.UTF8.GetBytes(JsonExport(JsonSpan(m))), "br")),

        // Bodies over the cap.
        ["gzip bomb larger than the cap once inflated"] = new(HttpStatusCode.RequestEntityTooLarge, _ => Post(Protobuf, Gzip(new byte[16 * BodyCap]), "gzip")),
        ["Content-Length over the cap"] = new(HttpStatusCode.RequestEntityTooLarge, _ => Post(Protobuf, RandomNumberGenerator.GetBytes(BodyCap + 1))),
        ["chunked body over the cap"] = new(HttpStatusCode.RequestEntityTooLarge, _ => Chunked(Post(Protobuf, RandomNumberGenerator.GetBytes(2 * BodyCap)))),
    };

    private static readonly Dictionary<string, Rejection> Rejections = new()
    {
        ["trace id of 15 bytes"] = new("traceId must be 16 bytes", s => s.TraceId = Bytes(15)),
        ["empty trace id"] = new("traceId must be 16 bytes", s => s.TraceId = ByteString.Empty),
        ["all-zero trace id"] = new("traceId is all zero", s => s.TraceId = ByteString.CopyFrom(new byte[16])),
        ["span id of 4 bytes"] = new("spanId must be 8 bytes", s => s.SpanId = Bytes(4)),
        ["empty span id"] = new("spanId must be 8 bytes", s => s.SpanId = ByteString.Empty),
        ["all-zero span id"] = new("spanId is all zero", s => s.SpanId = ByteString.CopyFrom(new byte[8])),
        ["parent span id of 3 bytes"] = new("parentSpanId must be 8 bytes", s => s.ParentSpanId = Bytes(3)),
        ["parent span id of 16 bytes"] = new("parentSpanId must be 8 bytes", s => s.ParentSpanId = Bytes(16)),
        ["end before start"] = new("endTimeUnixNano is before startTimeUnixNano", s => s.EndTimeUnixNano = s.StartTimeUnixNano - 1),
        ["start time 0"] = new("startTimeUnixNano is missing", s => s.StartTimeUnixNano = 0),
        ["end time 0"] = new("endTimeUnixNano is missing", s => s.EndTimeUnixNano = 0),
        ["start in 1970"] = new("startTimeUnixNano is older than the retention", s => s.StartTimeUnixNano = 1_000_000_000),
        ["start 8 days ago, older than the retention"] = new("startTimeUnixNano is older than the retention", s => s.StartTimeUnixNano = Nanos(DateTime.UtcNow.AddDays(-8))),
        ["start in the year 2200"] = new("startTimeUnixNano is more than", s => s.StartTimeUnixNano = Nanos(new DateTime(2200, 1, 1, 0, 0, 0, DateTimeKind.Utc))),
        ["end at the largest 64-bit time"] = new("endTimeUnixNano is more than", s => s.EndTimeUnixNano = ulong.MaxValue),
        ["empty span name"] = new("span name is empty", s => s.Name = string.Empty),
    };

    public static TheoryData<string> RefusalNames => new(Refusals.Keys);

    public static TheoryData<string> RejectionNames => new(Rejections.Keys);

    [Theory]
    [MemberData(nameof(RefusalNames))]
    public async Task Unreadable_request_is_refused_with_a_google_rpc_Status_and_stores_nothing(string refusal)
    {
        var (status, build) = Refusals[refusal];
        var marker = NewMarker(refusal);
        using var request = build(marker);
        var json = request.Content?.Headers.ContentType?.MediaType == Json;

        using var response = await _collector.Ingest.SendAsync(request);

        Assert.True(response.StatusCode == status, $"{refusal}: expected {(int)status}, got {await DescribeAsync(response)}");
        var error = await ReadRpcStatusAsync(response, json);
        Assert.Equal(InvalidArgument, error.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.Equal(0, await StoredSpansAsync(marker));
    }

    [Theory]
    [MemberData(nameof(RejectionNames))]
    public async Task Invalid_span_gets_partial_success_naming_the_problem_and_is_not_stored(string rejection)
    {
        var (reason, spoil) = Rejections[rejection];
        var marker = NewMarker(rejection);
        var span = GoodSpan(marker);
        spoil(span);

        var reply = await PostTracesAsync(Export(span));

        Assert.NotNull(reply.PartialSuccess);
        Assert.Equal(1, reply.PartialSuccess.RejectedSpans);
        Assert.Contains(reason, reply.PartialSuccess.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(0, await StoredSpansAsync(marker));
    }

    [Fact]
    public async Task Invalid_span_in_JSON_gets_a_JSON_partial_success_and_is_not_stored()
    {
        var marker = NewMarker("json rejection");

        using var response = await SendAsync(PostJson(JsonExport(JsonSpan(marker, traceId: "\"0123456789\""))));

        await AssertOkAsync(response);
        Assert.Equal(Json, response.Content.Headers.ContentType?.MediaType);
        var reply = JsonParser.Default.Parse<ExportTraceServiceResponse>(await response.Content.ReadAsStringAsync());
        Assert.Equal(1, reply.PartialSuccess?.RejectedSpans);
        Assert.Contains("traceId must be 16 bytes", reply.PartialSuccess!.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(0, await StoredSpansAsync(marker));
    }

    [Fact]
    public async Task Three_good_and_two_bad_spans_store_the_three_and_reject_the_two()
    {
        var goodMarker = NewMarker("mix good");
        var badMarker = NewMarker("mix bad");
        var root = GoodSpan(goodMarker, "root");
        var children = new[] { ChildOf(root, goodMarker, "child 1"), ChildOf(root, goodMarker, "child 2") };
        var shortSpanId = ChildOf(root, badMarker, "bad span id");
        shortSpanId.SpanId = Bytes(5);
        var backwards = ChildOf(root, badMarker, "ends before it starts");
        backwards.EndTimeUnixNano = backwards.StartTimeUnixNano - 1_000;

        var reply = await PostTracesAsync(Export(root, shortSpanId, children[0], backwards, children[1]));

        Assert.Equal(2, reply.PartialSuccess?.RejectedSpans);
        Assert.Contains("spanId must be 8 bytes", reply.PartialSuccess!.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("endTimeUnixNano is before startTimeUnixNano", reply.PartialSuccess.ErrorMessage, StringComparison.Ordinal);
        var trace = await GetTraceAsync(Hex(root.TraceId));
        Assert.Equal(
            new[] { root, children[0], children[1] }.Select(s => Hex(s.SpanId)).Order(),
            Spans(trace).Select(s => s.GetProperty("spanId").GetString()!).Order());
        Assert.Equal(3, await StoredSpansAsync(goodMarker));
        Assert.Equal(0, await StoredSpansAsync(badMarker));
    }

    [Fact]
    public async Task NUL_characters_in_protobuf_strings_are_stored_cleaned_and_readable()
    {
        var marker = NewMarker("nul");
        var span = GoodSpan(marker, "name\0with NUL");
        span.Attributes.Add(Attr("nul.value", "a\0b"));
        span.Attributes.Add(Attr("nul\0key", "v"));
        span.Status = new SpanStatus { Code = SpanStatus.Types.StatusCode.Error, Message = "failed\0" };
        span.Events.Add(new Span.Types.Event { Name = "event\0", TimeUnixNano = span.StartTimeUnixNano });

        var reply = await PostTracesAsync(Export("svc\0nul", span));

        Assert.Null(reply.PartialSuccess);
        var stored = Assert.Single(Spans(await GetTraceAsync(Hex(span.TraceId))));
        Assert.Equal("name\uFFFDwith NUL", stored.GetProperty("name").GetString());
        Assert.Equal("svc\uFFFDnul", stored.GetProperty("service").GetString());
        Assert.Equal("a\uFFFDb", stored.GetProperty("attributes").GetProperty("nul.value").GetString());
        Assert.Equal("v", stored.GetProperty("attributes").GetProperty("nul\uFFFDkey").GetString());
        Assert.Equal("failed\uFFFD", stored.GetProperty("status").GetProperty("message").GetString());
        Assert.Equal("event\uFFFD", stored.GetProperty("events")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task NUL_characters_and_lone_surrogates_in_JSON_strings_are_stored_cleaned_and_readable()
    {
        var marker = NewMarker("json lone surrogates");
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var body = JsonExport(JsonSpan(
            marker,
            traceId: Quote(traceId),
            name: """ "nul \u0000 high \ud800 low \udc00 end" """,
            extraAttributes: """,{"key":"lone\ud83d","value":{"stringValue":"x\udfffy\u0000z"}}"""));

        using var response = await SendAsync(PostJson(body));

        await AssertOkAsync(response);
        var stored = Assert.Single(Spans(await GetTraceAsync(traceId)));
        Assert.Equal("nul \uFFFD high \uFFFD low \uFFFD end", stored.GetProperty("name").GetString());
        Assert.Equal("x\uFFFDy\uFFFDz", stored.GetProperty("attributes").GetProperty("lone\uFFFD").GetString());
    }

    [Fact]
    public async Task Log_record_with_a_bad_trace_id_gets_partial_success_and_only_the_good_record_is_stored()
    {
        var marker = NewMarker("logs");
        var good = LogRecord(marker, "good record");
        good.TraceId = Bytes(16);
        good.SpanId = Bytes(8);
        var bad = LogRecord(marker, "record with a 5-byte trace id");
        bad.TraceId = Bytes(5);
        var request = new ExportLogsServiceRequest
        {
            ResourceLogs = { new ResourceLogs { Resource = ServiceResource("bad-input"), ScopeLogs = { new ScopeLogs { LogRecords = { good, bad } } } } },
        };

        using var response = await SendAsync(Post(Protobuf, request.ToByteArray(), path: "/v1/logs"));

        await AssertOkAsync(response);
        var reply = ExportLogsServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, reply.PartialSuccess?.RejectedLogRecords);
        Assert.Contains("traceId must be 16 bytes", reply.PartialSuccess!.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(["good record"], await StoredLogBodiesAsync(marker));
    }

    [Fact]
    public async Task GET_on_the_traces_endpoint_is_a_client_error()
    {
        using var response = await _collector.Ingest.GetAsync(new Uri("/v1/traces", UriKind.Relative));

        Assert.InRange((int)response.StatusCode, 400, 499);
    }

    [Fact]
    public async Task OTLP_posted_to_the_API_port_is_not_found_and_not_stored()
    {
        var marker = NewMarker("api port");
        foreach (var key in new[] { CollectorRunner.WriteKey, CollectorRunner.ReadKey })
        {
            using var client = CollectorRunner.Client(_collector.HttpPort, key);
            using var response = await SendAsync(Post(Protobuf, Export(GoodSpan(marker)).ToByteArray()), client);

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.Equal(0, await StoredSpansAsync(marker));
    }

    [Fact]
    public async Task Invalid_span_over_gRPC_gets_partial_success_and_is_not_stored()
    {
        var goodMarker = NewMarker("grpc good");
        var badMarker = NewMarker("grpc bad");
        var bad = GoodSpan(badMarker, "bad trace id");
        bad.TraceId = Bytes(5);
        using var channel = GrpcChannel.ForAddress(_collector.GrpcEndpoint);
        var client = new TraceService.TraceServiceClient(channel);

        var reply = await client.ExportAsync(Export(GoodSpan(goodMarker), bad), WriteKeyHeaders());

        Assert.Equal(1, reply.PartialSuccess?.RejectedSpans);
        Assert.Contains("traceId", reply.PartialSuccess!.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(1, await StoredSpansAsync(goodMarker));
        Assert.Equal(0, await StoredSpansAsync(badMarker));
    }

    [Fact]
    public async Task Grpc_message_over_the_size_cap_is_refused_with_ResourceExhausted_and_not_stored()
    {
        var marker = NewMarker("grpc too large");
        var span = GoodSpan(marker);
        span.Attributes.Add(Attr("big", new string('x', BodyCap)));
        using var channel = GrpcChannel.ForAddress(_collector.GrpcEndpoint);
        var client = new TraceService.TraceServiceClient(channel);

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(Export(span), WriteKeyHeaders()));

        Assert.True(e.StatusCode == StatusCode.ResourceExhausted, $"expected ResourceExhausted, got {e.Status}");
        Assert.Equal(0, await StoredSpansAsync(marker));
    }

    [Fact]
    public async Task Gzip_body_of_two_members_is_accepted_whole()
    {
        var marker = NewMarker("two gzip members");
        var (first, second) = (GoodSpan(marker, "first"), GoodSpan(marker, "second"));
        // RFC 1952: a gzip stream is a series of members; here each member holds one complete export.
        byte[] body = [.. Gzip(Export(first).ToByteArray()), .. Gzip(Export(second).ToByteArray())];

        using var response = await SendAsync(Post(Protobuf, body, "gzip"));

        await AssertOkAsync(response);
        Assert.Equal(2, await StoredSpansAsync(marker));
    }

    [Fact]
    public async Task Malformed_protobuf_over_gRPC_is_refused_with_InvalidArgument()
    {
        using var channel = GrpcChannel.ForAddress(_collector.GrpcEndpoint);
        var raw = Marshallers.Create<byte[]>(bytes => bytes, bytes => bytes);
        var export = new Method<byte[], byte[]>(MethodType.Unary, TraceService.Descriptor.FullName, "Export", raw, raw);

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(export, null, new CallOptions(WriteKeyHeaders()), [0x0A, 0x05, 0x0A, 0x01]));

        Assert.True(e.StatusCode == StatusCode.InvalidArgument, $"expected InvalidArgument, got {e.Status}");
    }

    [Fact]
    public async Task Protobuf_body_of_exactly_the_cap_is_accepted()
    {
        var marker = NewMarker("http at the cap");
        var request = ExportOfExactly(BodyCap, marker);

        var reply = await PostTracesAsync(request);

        Assert.Null(reply.PartialSuccess);
        Assert.Equal(1, await StoredSpansAsync(marker));
    }

    [Fact]
    public async Task Grpc_message_of_exactly_the_cap_is_accepted()
    {
        var marker = NewMarker("grpc at the cap");
        using var channel = GrpcChannel.ForAddress(_collector.GrpcEndpoint);
        var client = new TraceService.TraceServiceClient(channel);

        var reply = await client.ExportAsync(ExportOfExactly(BodyCap, marker), WriteKeyHeaders());

        Assert.Null(reply.PartialSuccess);
        Assert.Equal(1, await StoredSpansAsync(marker));
    }

    [Fact]
    public async Task JSON_with_upper_case_hex_ids_and_numeric_timestamps_is_accepted_and_read_back_with_lower_case_ids()
    {
        var marker = NewMarker("json upper case");
        var traceId = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var rootId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var childId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var start = Nanos(DateTime.UtcNow.AddSeconds(-5));
        var end = start + 3_000_000_000;
        var body = JsonExport(
            JsonSpan(marker, traceId: Quote(traceId), spanId: Quote(rootId), name: "\"json root\"", start: Number(start), end: Number(end)),
            JsonSpan(marker, traceId: Quote(traceId), spanId: Quote(childId), parentSpanId: Quote(rootId), name: "\"json child\"", start: Number(start + 1_000_000_000), end: Number(end - 1_000_000_000)));

        using var response = await SendAsync(PostJson(body));

        await AssertOkAsync(response);
        Assert.Null(JsonParser.Default.Parse<ExportTraceServiceResponse>(await response.Content.ReadAsStringAsync()).PartialSuccess);
        var trace = await GetTraceAsync(traceId.ToLowerInvariant());
        Assert.Equal(traceId.ToLowerInvariant(), trace.GetProperty("traceId").GetString());
        var spans = Spans(trace);
        Assert.Equal(["json root", "json child"], spans.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(rootId.ToLowerInvariant(), spans[0].GetProperty("spanId").GetString());
        Assert.Equal(childId.ToLowerInvariant(), spans[1].GetProperty("spanId").GetString());
        Assert.Equal(rootId.ToLowerInvariant(), spans[1].GetProperty("parentSpanId").GetString());
        Assert.All(spans, s => Assert.Equal(traceId.ToLowerInvariant(), s.GetProperty("traceId").GetString()));
        // Stored to the microsecond.
        Assert.InRange(ulong.Parse(spans[0].GetProperty("startTimeUnixNano").GetString()!, CultureInfo.InvariantCulture), start - 1_000, start);
    }

    [Fact]
    public async Task JSON_64_bit_integers_given_as_numbers_keep_full_precision()
    {
        var marker = NewMarker("json precision");
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        // Above 2^53, where a double cannot hold every integer: the start is 1 past a multiple of 256, the duration odd.
        var start = (Nanos(DateTime.UtcNow.AddSeconds(-5)) / 256 * 256) + 1;
        const ulong Duration = 1_234_567;
        const long Big = 9_007_199_254_740_993; // 2^53 + 1
        var body = JsonExport(JsonSpan(
            marker,
            traceId: Quote(traceId),
            start: Number(start),
            end: Number(start + Duration),
            extraAttributes: $$$""",{"key":"big","value":{"intValue":{{{Big}}}}}"""));

        using var response = await SendAsync(PostJson(body));

        await AssertOkAsync(response);
        var stored = Assert.Single(Spans(await GetTraceAsync(traceId)));
        Assert.Equal((long)Duration, stored.GetProperty("durationNanos").GetInt64());
        Assert.Equal(Big, stored.GetProperty("attributes").GetProperty("big").GetInt64());
    }

    [Fact]
    public async Task After_the_whole_corpus_the_collector_still_ingests_and_serves_a_good_request()
    {
        var corpus = Refusals.Keys.Select(name => (name, (Func<Task>)(() => Unreadable_request_is_refused_with_a_google_rpc_Status_and_stores_nothing(name))))
            .Concat(Rejections.Keys.Select(name => (name, (Func<Task>)(() => Invalid_span_gets_partial_success_naming_the_problem_and_is_not_stored(name)))))
            .Concat(
            [
                ("JSON rejection", Invalid_span_in_JSON_gets_a_JSON_partial_success_and_is_not_stored),
                ("three good and two bad spans", Three_good_and_two_bad_spans_store_the_three_and_reject_the_two),
                ("NUL in protobuf", NUL_characters_in_protobuf_strings_are_stored_cleaned_and_readable),
                ("NUL and lone surrogates in JSON", NUL_characters_and_lone_surrogates_in_JSON_strings_are_stored_cleaned_and_readable),
                ("logs with a bad trace id", Log_record_with_a_bad_trace_id_gets_partial_success_and_only_the_good_record_is_stored),
                ("GET", GET_on_the_traces_endpoint_is_a_client_error),
                ("API port", OTLP_posted_to_the_API_port_is_not_found_and_not_stored),
                ("gRPC invalid span", Invalid_span_over_gRPC_gets_partial_success_and_is_not_stored),
                ("gRPC too large", Grpc_message_over_the_size_cap_is_refused_with_ResourceExhausted_and_not_stored),
                ("gRPC malformed protobuf", Malformed_protobuf_over_gRPC_is_refused_with_InvalidArgument),
                ("two gzip members", Gzip_body_of_two_members_is_accepted_whole),
                ("HTTP at the cap", Protobuf_body_of_exactly_the_cap_is_accepted),
                ("gRPC at the cap", Grpc_message_of_exactly_the_cap_is_accepted),
            ]);
        var failures = new List<string>();
        foreach (var (name, check) in corpus)
        {
            try
            {
                await check();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failures.Add($"{name}: {e.GetType().Name}: {e.Message}{(e.GetBaseException() is { } inner && inner != e ? $" ({inner.GetType().Name}: {inner.Message})" : string.Empty)}");
            }
        }

        var span = GoodSpan(NewMarker("after the corpus"), "still serving");
        var reply = await PostTracesAsync(Export(span));

        Assert.Null(reply.PartialSuccess);
        var stored = Assert.Single(Spans(await GetTraceAsync(Hex(span.TraceId))));
        Assert.Equal("still serving", stored.GetProperty("name").GetString());
        Assert.Equal(Hex(span.SpanId), stored.GetProperty("spanId").GetString());
        Assert.True(failures.Count == 0, $"the collector survived, but {failures.Count} kinds of input were answered wrongly:\n{string.Join("\n", failures)}");
    }

    // ---- OTLP protobuf ----

    private static Span GoodSpan(string marker, string name = "GET /ok")
    {
        var now = DateTime.UtcNow;
        return new Span
        {
            TraceId = Bytes(16),
            SpanId = Bytes(8),
            Name = name,
            Kind = Span.Types.SpanKind.Server,
            StartTimeUnixNano = Nanos(now.AddSeconds(-2)),
            EndTimeUnixNano = Nanos(now.AddSeconds(-1)),
            Attributes = { Attr(CaseKey, marker) },
        };
    }

    private static Span ChildOf(Span parent, string marker, string name)
    {
        var child = GoodSpan(marker, name);
        child.TraceId = parent.TraceId;
        child.ParentSpanId = parent.SpanId;
        return child;
    }

    private static Span DeeplyNested(Span span, int levels)
    {
        var value = new AnyValue { StringValue = "bottom" };
        for (var i = 0; i < levels; i++)
        {
            value = new AnyValue { KvlistValue = new KeyValueList { Values = { new KeyValue { Key = "k", Value = value } } } };
        }

        span.Attributes.Add(new KeyValue { Key = "deep", Value = value });
        return span;
    }

    private static LogRecord LogRecord(string marker, string body) => new()
    {
        TimeUnixNano = Nanos(DateTime.UtcNow.AddSeconds(-1)),
        SeverityNumber = SeverityNumber.Info,
        Body = new AnyValue { StringValue = body },
        Attributes = { Attr(CaseKey, marker) },
    };

    private static ExportTraceServiceRequest Export(params Span[] spans) => Export("bad-input", spans);

    private static ExportTraceServiceRequest Export(string service, params Span[] spans) => new()
    {
        ResourceSpans =
        {
            new ResourceSpans
            {
                Resource = ServiceResource(service),
                ScopeSpans = { new ScopeSpans { Scope = new InstrumentationScope { Name = "bad-input-tests" }, Spans = { spans } } },
            },
        },
    };

    /// <summary>An export of one good span, padded by an attribute to exactly <paramref name="size"/> bytes.</summary>
    private static ExportTraceServiceRequest ExportOfExactly(int size, string marker)
    {
        var padding = new KeyValue { Key = "padding", Value = new AnyValue { StringValue = string.Empty } };
        var span = GoodSpan(marker);
        span.Attributes.Add(padding);
        var request = Export(span);
        while (request.CalculateSize() != size)
        {
            padding.Value.StringValue = new string('p', padding.Value.StringValue.Length + size - request.CalculateSize());
        }

        return request;
    }

    private static Resource ServiceResource(string service) => new() { Attributes = { Attr("service.name", service) } };

    /// <summary>A protobuf body of a few hundred bytes that does not compress to nothing.</summary>
    private static byte[] ManySpans(string marker) => Export(Enumerable.Range(0, 10).Select(i => GoodSpan(marker, $"span {i}")).ToArray()).ToByteArray();

    /// <summary>proto3 strings must be UTF-8: an attribute value here holds a UTF-8-encoded surrogate, a 0xFF byte and a broken pair.</summary>
    private static HttpRequestMessage ProtobufWithInvalidUtf8(string marker)
    {
        var span = GoodSpan(marker);
        span.Attributes.Add(Attr("bad.utf8", "@@@@@@@@"));
        // As long as the placeholder, so that the length prefix stays right.
        return Post(Protobuf, Replace(Export(span).ToByteArray(), "@@@@@@@@"u8.ToArray(), [0xED, 0xA0, 0x80, 0x20, 0xFF, 0x20, 0xC3, 0x28]));
    }

    private static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static ByteString Bytes(int length) => ByteString.CopyFrom(RandomNumberGenerator.GetBytes(length));

    private static string Hex(ByteString id) => Convert.ToHexStringLower(id.Span);

    private static ulong Nanos(DateTime utc) => (ulong)(utc - DateTime.UnixEpoch).Ticks * 100;

    private static string NewMarker(string name) => $"{name} {Guid.NewGuid():N}";

    // ---- OTLP JSON, by hand ----

    private static string JsonExport(params string[] spans) => $$$"""
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bad-input-json"}}]},"scopeSpans":[{"scope":{"name":"bad-input-tests"},"spans":[{{{string.Join(",", spans)}}}]}]}]}
        """;

    /// <summary>One span; each argument is a raw JSON token, so a test can put anything in any place.</summary>
    private static string JsonSpan(
        string marker,
        string? traceId = null,
        string? spanId = null,
        string? parentSpanId = null,
        string? name = null,
        string? start = null,
        string? end = null,
        string extraAttributes = "")
    {
        var now = DateTime.UtcNow;
        return $$$"""
            {"traceId":{{{traceId ?? Quote(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)))}}},"spanId":{{{spanId ?? Quote(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)))}}},"parentSpanId":{{{parentSpanId ?? "\"\""}}},"name":{{{name ?? "\"json span\""}}},"kind":2,"startTimeUnixNano":{{{start ?? Quote(Number(Nanos(now.AddSeconds(-2))))}}},"endTimeUnixNano":{{{end ?? Quote(Number(Nanos(now.AddSeconds(-1))))}}},"attributes":[{"key":"{{{CaseKey}}}","value":{"stringValue":{{{Quote(marker)}}}}}{{{extraAttributes}}}]}
            """;
    }

    private static string JsonLogs(string marker, string traceId) => $$$"""
        {"resourceLogs":[{"resource":{"attributes":[]},"scopeLogs":[{"logRecords":[{"timeUnixNano":{{{Quote(Number(Nanos(DateTime.UtcNow)))}}},"traceId":{{{traceId}}},"body":{"stringValue":"log"},"attributes":[{"key":"{{{CaseKey}}}","value":{"stringValue":{{{Quote(marker)}}}}}]}]}]}]}
        """;

    private static string DeepJsonValue(int levels)
    {
        var json = new StringBuilder();
        for (var i = 0; i < levels; i++)
        {
            json.Append("""{"kvlistValue":{"values":[{"key":"k","value":""");
        }

        json.Append("""{"stringValue":"bottom"}""");
        for (var i = 0; i < levels; i++)
        {
            json.Append("}]}}");
        }

        return json.ToString();
    }

    private static string Quote(string value) => JsonSerializer.Serialize(value);

    private static string Number(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    // ---- bodies and requests ----

    private static HttpRequestMessage Post(string? contentType, byte[] body, string? encoding = null, string path = "/v1/traces")
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        return new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = content };
    }

    private static HttpRequestMessage PostJson(string json, string path = "/v1/traces") => Post(Json, Encoding.UTF8.GetBytes(json), path: path);

    private static HttpRequestMessage Chunked(HttpRequestMessage request)
    {
        request.Headers.TransferEncodingChunked = true;
        return request;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>The UTF-8 of <paramref name="text"/> with <paramref name="placeholder"/> replaced by raw bytes.</summary>
    private static byte[] Utf8With(string text, string placeholder, byte[] bytes) =>
        Replace(Encoding.UTF8.GetBytes(text), Encoding.UTF8.GetBytes(placeholder), bytes);

    private static byte[] Replace(byte[] haystack, byte[] needle, byte[] replacement)
    {
        var at = haystack.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, "placeholder not found");
        return [.. haystack[..at], .. replacement, .. haystack[(at + needle.Length)..]];
    }

    private static Metadata WriteKeyHeaders() => new() { { "authorization", "Bearer " + CollectorRunner.WriteKey } };

    // ---- answers ----

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpClient? client = null)
    {
        using (request)
        {
            return await (client ?? _collector.Ingest).SendAsync(request);
        }
    }

    private async Task<ExportTraceServiceResponse> PostTracesAsync(ExportTraceServiceRequest request)
    {
        using var response = await SendAsync(Post(Protobuf, request.ToByteArray()));
        await AssertOkAsync(response);
        Assert.Equal(Protobuf, response.Content.Headers.ContentType?.MediaType);
        return ExportTraceServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
    }

    private static async Task AssertOkAsync(HttpResponseMessage response) =>
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {await DescribeAsync(response)}");

    private static async Task<RpcStatus> ReadRpcStatusAsync(HttpResponseMessage response, bool json)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        Assert.True(
            mediaType == (json ? Json : Protobuf),
            $"expected a google.rpc.Status body in {(json ? Json : Protobuf)}, got {mediaType ?? "no Content-Type"} and {response.Content.Headers.ContentLength} bytes");
        return json
            ? JsonParser.Default.Parse<RpcStatus>(await response.Content.ReadAsStringAsync())
            : RpcStatus.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
    }

    private static async Task<string> DescribeAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        var text = response.Content.Headers.ContentType?.MediaType == Protobuf
            ? RpcStatus.Parser.ParseFrom(body).ToString()
            : Encoding.UTF8.GetString(body);
        return $"{(int)response.StatusCode} {response.Content.Headers.ContentType}: {text}";
    }

    // ---- what was stored ----

    private async Task<JsonElement> GetTraceAsync(string traceId) =>
        await _collector.Query.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/traces/{traceId}", UriKind.Relative));

    private static List<JsonElement> Spans(JsonElement trace) => trace.GetProperty("spans").EnumerateArray().ToList();

    private async Task<long> StoredSpansAsync(string marker)
    {
        await using var conn = await OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM spans WHERE attributes ->> 'test.case' = $1", conn) { Parameters = { new() { Value = marker } } };
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task<List<string>> StoredLogBodiesAsync(string marker)
    {
        await using var conn = await OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT body #>> '{}' FROM logs WHERE attributes ->> 'test.case' = $1 ORDER BY 1", conn) { Parameters = { new() { Value = marker } } };
        await using var reader = await cmd.ExecuteReaderAsync();
        var bodies = new List<string>();
        while (await reader.ReadAsync())
        {
            bodies.Add(reader.GetString(0));
        }

        return bodies;
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var conn = new NpgsqlConnection(database.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }
}
