using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using SpanKind = OpenTelemetry.Proto.Trace.V1.Span.Types.SpanKind;

namespace Observability.Bench;

/// <summary>One pre-encoded OTLP/HTTP protobuf body and the number of spans in it.</summary>
internal sealed record Payload(byte[] Body, int Spans);

/// <summary>
/// Realistic serverless traces, encoded once before anything is timed: traces of 5 spans (a SERVER
/// invocation with INTERNAL and CLIENT children), 20 attributes per span, FaaS attributes on the
/// invocation span, a few errors and cold starts, start times in the last two minutes.
/// </summary>
internal static class SpanGenerator
{
    private const int SpansPerTrace = 5;
    private const int ResourcesPerRequest = 5;
    private static readonly string[] Functions = ["checkout", "orders-api", "thumbnailer", "payments-webhook", "search", "inventory-sync", "auth", "notifier"];
    private static readonly string[] Methods = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
    private static readonly string[] Triggers = ["http", "http", "http", "pubsub", "timer", "datasource"];
    private static readonly string[] Regions = ["eu-west-1", "us-east-1", "ap-southeast-2"];
    private static readonly string[] UserAgents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "okhttp/4.12.0",
        "python-requests/2.31.0",
    ];

    public static IReadOnlyList<Payload> Generate(int totalSpans, int spansPerRequest, int seed = 42)
    {
        var random = new Random(seed);
        var now = DateTime.UtcNow;
        var payloads = new List<Payload>();
        for (var left = totalSpans; left > 0; left -= spansPerRequest)
        {
            var count = Math.Min(spansPerRequest, left);
            payloads.Add(new Payload(Request(random, count, now).ToByteArray(), count));
        }

        return payloads;
    }

    private static ExportTraceServiceRequest Request(Random random, int spans, DateTime now)
    {
        var scopes = Enumerable.Range(0, ResourcesPerRequest).Select(_ => new ScopeSpans
        {
            Scope = new InstrumentationScope { Name = "Observability.Functions", Version = "1.4.0" },
        }).ToArray();
        var request = new ExportTraceServiceRequest();
        foreach (var scope in scopes)
        {
            var resource = new ResourceSpans { Resource = Resource(random) };
            resource.ScopeSpans.Add(scope);
            request.ResourceSpans.Add(resource);
        }

        for (var made = 0; made < spans; made += SpansPerTrace)
        {
            var trace = Trace(random, now);
            scopes[made / SpansPerTrace % scopes.Length].Spans.Add(trace.Take(spans - made));
        }

        return request;
    }

    private static Resource Resource(Random random)
    {
        var function = Functions[random.Next(Functions.Length)];
        var resource = new Resource();
        resource.Attributes.Add(
        [
            Str("service.name", function),
            Str("faas.name", function),
            Str("faas.version", $"v{1 + random.Next(3)}"),
            Str("faas.instance", $"{function}-{random.Next(16):x4}-{random.Next():x8}"),
            Int("faas.max_memory", 536_870_912),
            Str("cloud.provider", "aws"),
            Str("cloud.region", Regions[random.Next(Regions.Length)]),
            Str("telemetry.sdk.name", "opentelemetry"),
            Str("telemetry.sdk.language", "dotnet"),
            Str("telemetry.sdk.version", "1.15.3"),
        ]);
        return resource;
    }

    /// <summary>SERVER root; INTERNAL handler under it; CLIENT call under the handler; INTERNAL and CLIENT under the root.</summary>
    private static Span[] Trace(Random random, DateTime now)
    {
        var traceId = Bytes(random, 16);
        var start = now.AddMilliseconds(-random.Next(120_000));
        var durationMs = 20 + random.Next(300);
        var failed = random.Next(100) < 3;
        var root = NewSpan(random, traceId, null, "POST /api/orders/{id}", SpanKind.Server, start, durationMs, failed);
        root.Attributes.Add(Str("faas.trigger", Triggers[random.Next(Triggers.Length)]));
        root.Attributes.Add(Str("faas.invocation_id", Guid.NewGuid().ToString()));
        root.Attributes.Add(Bool("faas.coldstart", random.Next(100) < 4));
        if (failed)
        {
            root.Events.Add(new Span.Types.Event
            {
                Name = "exception",
                TimeUnixNano = Nanos(start.AddMilliseconds(durationMs - 1)),
                Attributes =
                {
                    Str("exception.type", "System.TimeoutException"),
                    Str("exception.message", "The downstream inventory service did not answer within 5 seconds."),
                },
            });
        }

        var handler = NewSpan(random, traceId, root, "handle order", SpanKind.Internal, start.AddMilliseconds(1), durationMs - 2, failed: false);
        var call = NewSpan(random, traceId, handler, "GET inventory", SpanKind.Client, start.AddMilliseconds(2), durationMs / 2, failed);
        var serialize = NewSpan(random, traceId, root, "serialize response", SpanKind.Internal, start.AddMilliseconds(durationMs - 5), 3, failed: false);
        var publish = NewSpan(random, traceId, root, "POST events", SpanKind.Client, start.AddMilliseconds(durationMs - 2), 1, failed: false);
        return [root, handler, call, serialize, publish];
    }

    private static Span NewSpan(Random random, ByteString traceId, Span? parent, string name, SpanKind kind, DateTime start, int durationMs, bool failed)
    {
        var status = failed ? 500 : 200;
        var span = new Span
        {
            TraceId = traceId,
            SpanId = Bytes(random, 8),
            ParentSpanId = parent?.SpanId ?? ByteString.Empty,
            Name = name,
            Kind = kind,
            StartTimeUnixNano = Nanos(start),
            EndTimeUnixNano = Nanos(start.AddMilliseconds(durationMs)),
            Flags = 0x100 | (parent is null ? 0u : 0x200u) | 1,
            Status = failed
                ? new Status { Code = Status.Types.StatusCode.Error, Message = "upstream timeout" }
                : new Status { Code = kind == SpanKind.Server ? Status.Types.StatusCode.Ok : Status.Types.StatusCode.Unset },
        };
        var orderId = random.Next(1_000_000);
        span.Attributes.Add(
        [
            Str("http.request.method", Methods[random.Next(Methods.Length)]),
            Int("http.response.status_code", status),
            Str("http.route", "/api/orders/{id}"),
            Str("url.path", $"/api/orders/{orderId}"),
            Str("url.scheme", "https"),
            Str("url.query", $"expand=items&page={random.Next(10)}"),
            Str("server.address", "api.shop.example.com"),
            Int("server.port", 443),
            Str("user_agent.original", UserAgents[random.Next(UserAgents.Length)]),
            Str("network.peer.address", $"10.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}"),
            Int("network.peer.port", 1024 + random.Next(60_000)),
            Str("network.protocol.version", "1.1"),
            Str("app.tenant_id", $"tenant-{random.Next(500):d4}"),
            Str("app.user_id", $"user-{random.Next(1_000_000):d7}"),
            Str("app.order_id", $"ord-{orderId:d7}"),
            Int("app.items", 1 + random.Next(12)),
            Int("app.payload_bytes", random.Next(64_000)),
            Bool("app.cache_hit", random.Next(2) == 0),
            Bool("app.feature.new_checkout", random.Next(10) == 0),
            Str("app.region", Regions[random.Next(Regions.Length)]),
        ]);
        return span;
    }

    private static ByteString Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        bytes[0] |= 1; // never all zero
        return ByteString.CopyFrom(bytes);
    }

    private static ulong Nanos(DateTime utc) => (ulong)(utc - DateTime.UnixEpoch).Ticks * 100;

    private static KeyValue Str(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static KeyValue Int(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };

    private static KeyValue Bool(string key, bool value) => new() { Key = key, Value = new AnyValue { BoolValue = value } };
}
