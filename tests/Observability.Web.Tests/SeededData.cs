using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using static Observability.Testing.OtlpFactory;
using Kind = OpenTelemetry.Proto.Trace.V1.Span.Types.SpanKind;
using OtlpSpan = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Web.Tests;

/// <summary>
/// What a small deployment sends in two hours: three functions (checkout in two versions, v2 slower to start),
/// cold starts with their phase records, errors and failure snapshots with exceptions, warm-up pings, and one
/// multi-service trace with nesting five deep whose cold start links back to it. The tests check the pages
/// against these values; nothing here is read back from the collector.
/// </summary>
public sealed class SeededData
{
    public const string Gateway = "gateway";
    public const string Payments = "payments";
    public const string Checkout = "checkout";
    public const string Thumbnails = "thumbnails";
    public const string ExceptionType = "System.NullReferenceException";
    public const string ExceptionMessage = "Object reference not set to an instance of an object.";
    public const string ExceptionFrame = "at Checkout.Cart.Total(Cart cart) in /src/Checkout/Cart.cs:line 42";
    public const string StackTrace = $"{ExceptionType}: {ExceptionMessage}\n   {ExceptionFrame}\n   at Checkout.Handlers.Post(HttpContext context) in /src/Checkout/Handlers.cs:line 18\n   at Microsoft.AspNetCore.Routing.EndpointMiddleware.Invoke(HttpContext httpContext)";

    private readonly DateTime _now = DateTime.UtcNow;
    private readonly List<(Resource Resource, OtlpSpan Span)> _spans = [];
    private readonly List<(Resource Resource, LogRecord Record)> _logs = [];
    private int _invocation;

    /// <summary>The showcase trace: gateway → checkout (cold) → payments, with names and depths in tree order.</summary>
    public string ShowcaseTraceId { get; private set; } = string.Empty;

    public string ShowcaseCheckoutSpanId { get; private set; } = string.Empty;

    public IReadOnlyList<(string Name, int Depth)> ShowcaseSpans { get; } =
    [
        ("POST /checkout", 0), ("POST checkout", 1), ("POST /checkout", 2), ("validate cart", 3), ("SELECT orders", 3),
        ("POST payments/charge", 3), ("POST /charge", 4), ("fraud check", 5),
    ];

    /// <summary>The cold-start record of the showcase invocation (a trace of its own, linked to the invocation).</summary>
    public string ShowcaseColdStartTraceId { get; private set; } = string.Empty;

    /// <summary>Invocations per (function, version) in the last hour and before, warm-up pings not counted.</summary>
    public Dictionary<(string Function, string Version), (int Invocations, int Errors, int ColdStarts)> Expected { get; } = [];

    /// <summary>The duration of each invocation (warm-up pings left out), per (function, version), in milliseconds.</summary>
    public Dictionary<(string Function, string Version), List<int>> LatencyMs { get; } = [];

    /// <summary>The init duration of each cold start, per (function, version), in milliseconds.</summary>
    public Dictionary<(string Function, string Version), List<int>> InitMs { get; } = [];

    public int CheckoutSnapshots { get; private set; }

    /// <summary>The ids of the traces with a span of <paramref name="function"/> (its invocations and cold-start records), as the API writes them.</summary>
    public IReadOnlySet<string> TraceIdsOf(string function) => _spans
        .Where(s => s.Resource.Attributes.Any(a => a.Key == "faas.name" && a.Value.StringValue == function))
        .Select(s => Convert.ToHexStringLower(s.Span.TraceId.ToByteArray())).ToHashSet();

    /// <summary>How many failure groups the snapshots make: one per function and exception type, or trigger when there is none.</summary>
    public int FailureGroups => _logs
        .Select(l => (
            l.Resource.Attributes.Single(a => a.Key == "faas.name").Value.StringValue,
            l.Record.Attributes.FirstOrDefault(a => a.Key == "exception.type")?.Value.StringValue ?? l.Record.Attributes.Single(a => a.Key == "obs.snapshot.trigger").Value.StringValue))
        .Distinct().Count();

    public static async Task<SeededData> SendAsync(CollectorRunner collector)
    {
        var data = new SeededData();
        data.Build();
        foreach (var batch in data._spans.GroupBy(s => s.Resource).Chunk(10))
        {
            var request = new ExportTraceServiceRequest();
            foreach (var group in batch)
            {
                request.ResourceSpans.Add(new ResourceSpans { Resource = group.Key, ScopeSpans = { new ScopeSpans { Spans = { group.Select(g => g.Span) } } } });
            }

            using var response = await collector.Ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), Protobuf(request));
            response.EnsureSuccessStatusCode();
        }

        var logs = new ExportLogsServiceRequest();
        foreach (var group in data._logs.GroupBy(l => l.Resource))
        {
            logs.ResourceLogs.Add(new ResourceLogs { Resource = group.Key, ScopeLogs = { new ScopeLogs { LogRecords = { group.Select(g => g.Record) } } } });
        }

        using (var response = await collector.Ingest.PostAsync(new Uri("/v1/logs", UriKind.Relative), Protobuf(logs)))
        {
            response.EnsureSuccessStatusCode();
        }

        // Ingest is asynchronous: wait until the last trace and every snapshot can be read back.
        await Poll.UntilAsync(
            async () => (await collector.Query.GetAsync(new Uri($"/api/v1/traces/{data.ShowcaseColdStartTraceId}", UriKind.Relative))).IsSuccessStatusCode,
            ok => ok, TimeSpan.FromSeconds(60), "the seeded traces");
        await Poll.UntilAsync(
            async () =>
            {
                var json = await collector.Query.GetStringAsync(new Uri($"/api/v1/snapshots?start={Uri.EscapeDataString(data._now.AddHours(-3).ToString("O"))}&limit=100", UriKind.Relative));
                return JsonDocument.Parse(json).RootElement.GetProperty("items").GetArrayLength();
            },
            n => n == data._logs.Count, TimeSpan.FromSeconds(60), "the seeded snapshots");
        return data;
    }

    private void Build()
    {
        var checkoutV1 = FunctionResource(Checkout, "1", "checkout-7d9f-a");
        var checkoutV2 = FunctionResource(Checkout, "2", "checkout-7d9f-b");
        var thumbnails = FunctionResource(Thumbnails, "5", "thumbnails-0");
        var random = new Random(12);

        // checkout v1, 110 to 70 minutes ago: cold starts of about 400 ms.
        for (var i = 0; i < 40; i++)
        {
            Invocation(checkoutV1, Checkout, "1", _now.AddMinutes(-110 + i), warmMs: 30 + random.Next(40), cold: i % 13 == 0 ? 380 + random.Next(60) : null, error: i == 17);
        }

        // checkout v2, the last 60 minutes: cold starts of about 800 ms, every other one nearer 480 ms (still slower than
        // every v1 start), and a bug that throws.
        for (var i = 0; i < 48; i++)
        {
            var error = i % 12 == 5;
            var time = _now.AddMinutes(-60 + (i * 1.2));
            var traceId = Invocation(checkoutV2, Checkout, "2", time, warmMs: 35 + random.Next(45), cold: i % 8 == 0 ? (i % 16 == 8 ? 460 + random.Next(35) : 760 + random.Next(90)) : null, error: error);
            if (error)
            {
                Snapshot(checkoutV2, Checkout, "2", time, traceId, "status_5xx", 500, withException: true);
                CheckoutSnapshots++;
            }
        }

        for (var i = 0; i < 3; i++)
        {
            WarmUpPing(checkoutV2, _now.AddMinutes(-30 + (i * 10)));
        }

        // thumbnails v5: a slow function with one timeout.
        for (var i = 0; i < 20; i++)
        {
            var time = _now.AddMinutes(-80 + (i * 3));
            var timeout = i == 11;
            var traceId = Invocation(thumbnails, Thumbnails, "5", time, warmMs: timeout ? 10_000 : 180 + random.Next(120), cold: i % 10 == 0 ? 1200 + random.Next(200) : null, error: timeout);
            if (timeout)
            {
                Snapshot(thumbnails, Thumbnails, "5", time, traceId, "timeout", 504, withException: false);
            }
        }

        Showcase(checkoutV2);
    }

    private static Resource FunctionResource(string function, string version, string instance) => new()
    {
        Attributes =
        {
            Attr("service.name", function), Attr("faas.name", function), Attr("faas.version", version), Attr("faas.instance", instance),
            Attr("cloud.region", "eu-west-1"), Attr("telemetry.sdk.name", "obs-sidecar"),
        },
    };

    private static Resource ServiceResource(string service) => new() { Attributes = { Attr("service.name", service), Attr("service.version", "2026.11.3") } };

    private ByteString Invocation(Resource resource, string function, string version, DateTime start, int warmMs, int? cold, bool error, ByteString? traceId = null)
    {
        traceId ??= NewTraceId();
        var duration = TimeSpan.FromMilliseconds(warmMs + (cold ?? 0));
        var span = At($"POST /{function}", traceId, Kind.Server, start, duration,
            Attr("faas.trigger", "http"), Attr("faas.invocation_id", $"inv-{++_invocation}"), Attr("http.request.method", "POST"),
            Attr("http.route", $"/{function}"), Attr("http.response.status_code", error ? (warmMs >= 10_000 ? 504 : 500) : 200));
        if (cold is { } initMs)
        {
            span.Attributes.Add(Attr("faas.coldstart", true));
            ColdStartRecord(resource, span, start, initMs);
            Add(InitMs, function, version, initMs);
        }

        if (error)
        {
            span.Status = new Status { Code = Status.Types.StatusCode.Error, Message = warmMs >= 10_000 ? "upstream timeout" : "status 500" };
        }

        _spans.Add((resource, span));
        Add(LatencyMs, function, version, warmMs + (cold ?? 0));
        var key = (function, version);
        var (n, e, c) = Expected.GetValueOrDefault(key);
        Expected[key] = (n + 1, e + (error ? 1 : 0), c + (cold is null ? 0 : 1));
        return traceId;
    }

    /// <summary>
    /// The sidecar's cold-start record: its own trace, linked to the invocation, one span per phase. The request
    /// woke a stopped function (spawn), the process initialised (init: runtime start, then app init), then it
    /// served the request (first request), all within the invocation.
    /// </summary>
    private ByteString ColdStartRecord(Resource resource, OtlpSpan invocation, DateTime invocationStart, int initMs)
    {
        var traceId = NewTraceId();
        var processStart = invocationStart.AddMilliseconds(4);
        var listening = processStart.AddMilliseconds(initMs);
        var runtimeReady = processStart.AddMilliseconds(initMs * 0.3);
        var firstResponse = invocationStart + TimeSpan.FromTicks((long)((invocation.EndTimeUnixNano - invocation.StartTimeUnixNano) / 100));
        var record = At("faas.coldstart", traceId, Kind.Internal, invocationStart, firstResponse - invocationStart,
            Attr("obs.coldstart.init_ms", (long)initMs),
            new KeyValue { Key = "obs.startup.top_assemblies", Value = Strings("System.Private.CoreLib 21.40 ms", "Microsoft.AspNetCore.Server.Kestrel.Core 12.10 ms", "Checkout 4.20 ms") },
            new KeyValue { Key = "obs.startup.top_methods", Value = Strings("Checkout.Program.Main 31.20 ms", "Checkout.Cart..ctor 8.70 ms") },
            Attr("obs.startup.assemblies_loaded", 84L), Attr("obs.startup.jit_methods", 1920L),
            new KeyValue { Key = "obs.startup.jit_ms", Value = new AnyValue { DoubleValue = 212.5 } }, Attr("obs.startup.gc_count", 2L),
            new KeyValue { Key = "obs.startup.gc_pause_ms", Value = new AnyValue { DoubleValue = 3.4 } });
        record.Links.Add(new OtlpSpan.Types.Link { TraceId = invocation.TraceId, SpanId = invocation.SpanId });
        _spans.Add((resource, record));
        Phase(resource, traceId, record.SpanId, "spawn", invocationStart, processStart);
        var init = Phase(resource, traceId, record.SpanId, "init", processStart, listening);
        Phase(resource, traceId, init.SpanId, "runtime_start", processStart, runtimeReady);
        Phase(resource, traceId, init.SpanId, "app_init", runtimeReady, listening);
        Phase(resource, traceId, record.SpanId, "first_request", listening, firstResponse);
        return traceId;
    }

    private OtlpSpan Phase(Resource resource, ByteString traceId, ByteString parent, string phase, DateTime from, DateTime to)
    {
        var span = At("coldstart." + phase, traceId, Kind.Internal, from, to - from, Attr("obs.coldstart.phase", phase));
        span.ParentSpanId = parent;
        _spans.Add((resource, span));
        return span;
    }

    private static void Add(Dictionary<(string, string), List<int>> values, string function, string version, int ms)
    {
        if (!values.TryGetValue((function, version), out var list))
        {
            values[(function, version)] = list = [];
        }

        list.Add(ms);
    }

    private void WarmUpPing(Resource resource, DateTime start) =>
        _spans.Add((resource, At("GET /_warmup", NewTraceId(), Kind.Server, start, TimeSpan.FromMilliseconds(2), Attr("faas.trigger", "http"), Attr("obs.warmup", true))));

    private void Showcase(Resource checkout)
    {
        var traceId = NewTraceId();
        var t0 = _now.AddMinutes(-5);
        OtlpSpan Child(Resource resource, OtlpSpan parent, string name, Kind kind, int fromMs, int toMs, params KeyValue[] attributes)
        {
            var span = At(name, traceId, kind, t0.AddMilliseconds(fromMs), TimeSpan.FromMilliseconds(toMs - fromMs), attributes);
            span.ParentSpanId = parent.SpanId;
            _spans.Add((resource, span));
            return span;
        }

        var gateway = ServiceResource(Gateway);
        var payments = ServiceResource(Payments);
        var root = At("POST /checkout", traceId, Kind.Server, t0, TimeSpan.FromMilliseconds(1320), Attr("http.route", "/checkout"), Attr("http.response.status_code", 200));
        _spans.Add((gateway, root));
        var call = Child(gateway, root, "POST checkout", Kind.Client, 10, 1310, Attr("server.address", "checkout"));
        var server = At("POST /checkout", traceId, Kind.Server, t0.AddMilliseconds(15), TimeSpan.FromMilliseconds(1290),
            Attr("faas.trigger", "http"), Attr("faas.coldstart", true), Attr("http.route", "/checkout"), Attr("http.response.status_code", 200));
        server.ParentSpanId = call.SpanId;
        _spans.Add((checkout, server));
        var (n, e, c) = Expected[(Checkout, "2")];
        Expected[(Checkout, "2")] = (n + 1, e, c + 1);
        Add(LatencyMs, Checkout, "2", 1290);
        Child(checkout, server, "validate cart", Kind.Internal, 820, 860);
        Child(checkout, server, "SELECT orders", Kind.Client, 865, 940, Attr("db.system", "postgresql"), Attr("db.query.text", "SELECT * FROM orders WHERE cart_id = $1"));
        var charge = Child(checkout, server, "POST payments/charge", Kind.Client, 950, 1290);
        var chargeServer = Child(payments, charge, "POST /charge", Kind.Server, 960, 1285, Attr("http.route", "/charge"));
        chargeServer.Events.Add(new OtlpSpan.Types.Event { Name = "card declined, retrying", TimeUnixNano = Nanos(t0.AddMilliseconds(1100)), Attributes = { Attr("attempt", 1L) } });
        // The fraud service timed out; payments went on without its score: an error inside a trace that succeeded.
        var fraud = Child(payments, chargeServer, "fraud check", Kind.Internal, 970, 1060, Attr("fraud.provider", "riskapi"));
        fraud.Status = new Status { Code = Status.Types.StatusCode.Error, Message = "riskapi timed out after 90 ms; scored as low risk" };
        ShowcaseTraceId = Convert.ToHexStringLower(traceId.ToByteArray());
        ShowcaseCheckoutSpanId = Convert.ToHexStringLower(server.SpanId.ToByteArray());
        ShowcaseColdStartTraceId = Convert.ToHexStringLower(ColdStartRecord(checkout, server, t0.AddMilliseconds(15), 790).ToByteArray());
        Add(InitMs, Checkout, "2", 790);
    }

    private void Snapshot(Resource resource, string function, string version, DateTime time, ByteString traceId, string trigger, int status, bool withException)
    {
        var body = new JsonObject
        {
            ["trigger"] = trigger,
            ["time"] = time.ToString("O"),
            ["function"] = new JsonObject { ["name"] = function, ["version"] = version, ["instance"] = $"{function}-0" },
            ["traceId"] = Convert.ToHexStringLower(traceId.ToByteArray()),
            ["request"] = new JsonObject
            {
                ["method"] = "POST",
                ["url"] = $"/{function}?cart=8812",
                ["protocol"] = "HTTP/1.1",
                ["headers"] = new JsonObject { ["Content-Type"] = "application/json", ["Authorization"] = "***" },
                ["body"] = "{\"cart\":8812,\"items\":[{\"sku\":\"A-1\",\"qty\":2}]}",
                ["bodyBytes"] = 44,
                ["bodyTruncated"] = false,
            },
            ["response"] = new JsonObject { ["status"] = status, ["headers"] = new JsonObject { ["Content-Type"] = "text/plain" }, ["bodyBytes"] = 0 },
            ["logs"] = new JsonArray("info: Microsoft.Hosting.Lifetime[0] Application started.", $"fail: Microsoft.AspNetCore.Server.Kestrel[13] Request POST /{function} failed"),
            ["process"] = new JsonObject { ["pid"] = 4242, ["uptimeSeconds"] = 93.5, ["rssBytes"] = 73_400_320, ["cpuSeconds"] = 1.84, ["threads"] = 21, ["gcHeapBytes"] = 12_582_912, ["gcCount"] = 3 },
            ["environment"] = new JsonObject { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["DB_PASSWORD"] = "***", ["PORT"] = "8080" },
        };
        if (withException)
        {
            // The first one wrote a dump (it stays on the function's host; the snapshot says where).
            if (CheckoutSnapshots == 0)
            {
                body["dump"] = new JsonObject { ["kind"] = "Normal", ["path"] = "/var/spool/obs/dumps/checkout-4242.dmp", ["bytes"] = 12_582_912 };
            }

            body["exceptionsMatch"] = "trace";
            body["concurrentRequests"] = 0;
            body["exceptions"] = new JsonArray(new JsonObject
            {
                ["time"] = time.ToString("O"),
                ["type"] = ExceptionType,
                ["message"] = ExceptionMessage,
                ["threadId"] = 7,
                ["stackTrace"] = StackTrace,
            });
        }
        else
        {
            body["error"] = "upstream timeout after 10 s";
        }

        var record = new LogRecord
        {
            TimeUnixNano = Nanos(time.AddMilliseconds(50)),
            ObservedTimeUnixNano = Nanos(time.AddMilliseconds(60)),
            SeverityNumber = SeverityNumber.Error,
            SeverityText = "ERROR",
            EventName = "obs.failure_snapshot",
            TraceId = traceId,
            Body = ToAnyValue(body),
            Attributes = { Attr("obs.snapshot.trigger", trigger), Attr("http.response.status_code", status), Attr("http.request.method", "POST") },
        };
        if (withException)
        {
            // As the sidecar does: the exception conventions from the exception at fault.
            record.Attributes.Add([Attr("exception.type", ExceptionType), Attr("exception.message", ExceptionMessage), Attr("exception.stacktrace", StackTrace)]);
        }

        _logs.Add((resource, record));
    }

    private static OtlpSpan At(string name, ByteString traceId, Kind kind, DateTime start, TimeSpan duration, params KeyValue[] attributes) => new()
    {
        TraceId = traceId,
        SpanId = NewSpanId(),
        Name = name,
        Kind = kind,
        StartTimeUnixNano = Nanos(start),
        EndTimeUnixNano = Nanos(start + duration),
        Attributes = { attributes },
    };

    private static AnyValue Strings(params string[] values) => new() { ArrayValue = new ArrayValue { Values = { values.Select(v => new AnyValue { StringValue = v }) } } };

    private static AnyValue ToAnyValue(JsonNode? node) => node switch
    {
        JsonObject o => new AnyValue { KvlistValue = new KeyValueList { Values = { o.Select(p => new KeyValue { Key = p.Key, Value = ToAnyValue(p.Value) }) } } },
        JsonArray a => new AnyValue { ArrayValue = new ArrayValue { Values = { a.Select(ToAnyValue) } } },
        JsonValue v when v.TryGetValue<bool>(out var b) => new AnyValue { BoolValue = b },
        JsonValue v when v.TryGetValue<string>(out var s) => new AnyValue { StringValue = s },
        JsonValue v when v.TryGetValue<int>(out var i) => new AnyValue { IntValue = i },
        JsonValue v when v.TryGetValue<long>(out var l) => new AnyValue { IntValue = l },
        JsonValue v when v.TryGetValue<double>(out var d) => new AnyValue { DoubleValue = d },
        _ => new AnyValue(),
    };
}
