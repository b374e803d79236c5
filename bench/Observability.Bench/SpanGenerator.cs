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
/// What the generated traffic looks like. <see cref="Ingest"/> is the ingest benchmark's (8 functions, 3 versions,
/// the last two minutes); <see cref="Analysis"/> adds what the analysis API reads: many functions over a day, the
/// sidecar's cold-start records and warm-up pings.
/// </summary>
internal sealed record Workload
{
    public required IReadOnlyList<string> Functions { get; init; }

    /// <summary>How many versions (v1, v2, ...) the function at an index of <see cref="Functions"/> has.</summary>
    public required Func<int, int> VersionsOf { get; init; }

    /// <summary>Start times are spread over this much time before the generation time.</summary>
    public required TimeSpan Window { get; init; }

    /// <summary>
    /// Each cold start also gets its cold-start record as the sidecar writes it (ColdStartRecorder: a faas.coldstart
    /// trace with a span per phase and the obs.startup.* profile), and 1 % of invocations are warm-up pings.
    /// </summary>
    public bool ColdStartRecords { get; init; }

    public static readonly Workload Ingest = new()
    {
        Functions = ["checkout", "orders-api", "thumbnailer", "payments-webhook", "search", "inventory-sync", "auth", "notifier"],
        VersionsOf = _ => 3,
        Window = TimeSpan.FromMinutes(2),
    };

    /// <summary>50 functions (areas × roles), 2 or 3 versions each, over the last 24 hours.</summary>
    public static readonly Workload Analysis = new()
    {
        Functions = [.. from area in (string[])["orders", "payments", "inventory", "search", "auth", "notify", "media", "billing", "catalog", "reports"]
                        from role in (string[])["api", "worker", "webhook", "sync", "cron"]
                        select $"{area}-{role}"],
        VersionsOf = i => 2 + (i % 2),
        Window = TimeSpan.FromHours(24),
        ColdStartRecords = true,
    };
}

/// <summary>A failed invocation as generated: what the sidecar's failure snapshot of it carries.</summary>
internal sealed record FailedInvocation(int FunctionIndex, string Function, string Version, DateTime Start, ByteString TraceId, ByteString SpanId, int Kind);

/// <summary>
/// Realistic serverless traces, encoded once before anything is timed: traces of 5 spans (a SERVER
/// invocation with INTERNAL and CLIENT children), 20 attributes per span, FaaS attributes on the
/// invocation span, a few errors and cold starts, start times in the <see cref="Workload"/>'s window.
/// </summary>
internal static class SpanGenerator
{
    private const int ResourcesPerRequest = 5;
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

    /// <param name="totalSpans">Spans in all the payloads together.</param>
    /// <param name="spansPerRequest">Spans per payload (the last may have fewer).</param>
    /// <param name="seed">The same seed gives the same spans (and ids: a repeat is dropped by ingest as a retry).</param>
    /// <param name="workload">What the traffic looks like; <see cref="Workload.Ingest"/> when null.</param>
    /// <param name="failed">When given, receives each failed invocation, for its failure snapshot.</param>
    public static IReadOnlyList<Payload> Generate(int totalSpans, int spansPerRequest, int seed = 42, Workload? workload = null, ICollection<FailedInvocation>? failed = null)
    {
        var random = new Random(seed);
        var now = DateTime.UtcNow;
        var payloads = new List<Payload>();
        for (var left = totalSpans; left > 0; left -= spansPerRequest)
        {
            var count = Math.Min(spansPerRequest, left);
            payloads.Add(new Payload(Request(random, count, now, workload ?? Workload.Ingest, failed).ToByteArray(), count));
        }

        return payloads;
    }

    private static ExportTraceServiceRequest Request(Random random, int spans, DateTime now, Workload workload, ICollection<FailedInvocation>? failed)
    {
        var scopes = Enumerable.Range(0, ResourcesPerRequest).Select(_ => new ScopeSpans
        {
            Scope = new InstrumentationScope { Name = "Observability.Functions", Version = "1.4.0" },
        }).ToArray();
        var functions = new (int Index, string Version)[scopes.Length];
        var request = new ExportTraceServiceRequest();
        for (var i = 0; i < scopes.Length; i++)
        {
            var (resource, function, version) = Resource(random, workload);
            functions[i] = (function, version);
            request.ResourceSpans.Add(new ResourceSpans { Resource = resource, ScopeSpans = { scopes[i] } });
        }

        var traces = 0;
        for (var made = 0; made < spans; traces++)
        {
            var scope = traces % scopes.Length;
            var trace = Trace(random, now, workload, functions[scope].Index, functions[scope].Version, failed);
            scopes[scope].Spans.Add(trace.Take(spans - made));
            made += trace.Length;
        }

        return request;
    }

    private static (Resource Resource, int Function, string Version) Resource(Random random, Workload workload)
    {
        var index = random.Next(workload.Functions.Count);
        var function = workload.Functions[index];
        var version = $"v{1 + random.Next(workload.VersionsOf(index))}";
        var resource = new Resource();
        resource.Attributes.Add(
        [
            Str("service.name", function),
            Str("faas.name", function),
            Str("faas.version", version),
            Str("faas.instance", $"{function}-{random.Next(16):x4}-{random.Next():x8}"),
            Int("faas.max_memory", 536_870_912),
            Str("cloud.provider", "aws"),
            Str("cloud.region", Regions[random.Next(Regions.Length)]),
            Str("telemetry.sdk.name", "opentelemetry"),
            Str("telemetry.sdk.language", "dotnet"),
            Str("telemetry.sdk.version", "1.15.3"),
        ]);
        return (resource, index, version);
    }

    /// <summary>
    /// SERVER root; INTERNAL handler under it; CLIENT call under the handler; INTERNAL and CLIENT under the root.
    /// With <see cref="Workload.ColdStartRecords"/>, a cold start's record follows (a trace of its own).
    /// </summary>
    private static Span[] Trace(Random random, DateTime now, Workload workload, int function, string version, ICollection<FailedInvocation>? failures)
    {
        var traceId = Bytes(random, 16);
        var start = now.AddMilliseconds(-random.Next((int)workload.Window.TotalMilliseconds));
        var durationMs = 20 + random.Next(300);
        var failed = random.Next(100) < 3;
        var root = NewSpan(random, traceId, null, "POST /api/orders/{id}", SpanKind.Server, start, durationMs, failed);
        root.Attributes.Add(Str("faas.trigger", Triggers[random.Next(Triggers.Length)]));
        root.Attributes.Add(Str("faas.invocation_id", Guid.NewGuid().ToString()));
        var cold = random.Next(100) < 4;
        root.Attributes.Add(Bool("faas.coldstart", cold));
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
        Span[] spans = [root, handler, call, serialize, publish];
        if (!workload.ColdStartRecords)
        {
            return spans;
        }

        if (random.Next(100) == 0)
        {
            root.Attributes.Add(Bool("obs.warmup", true));
        }

        if (failed)
        {
            failures?.Add(new FailedInvocation(function, workload.Functions[function], version, start, traceId, root.SpanId, random.Next(1 + (function % 3 == 0 ? 1 : 0))));
        }

        if (!cold)
        {
            return spans;
        }

        var record = ColdStartRecord(random, root, function, version, start);
        // The invocation that paid for the cold start waited for it.
        root.EndTimeUnixNano = root.StartTimeUnixNano + (record[0].EndTimeUnixNano - record[0].StartTimeUnixNano);
        return [.. spans, .. record];
    }

    /// <summary>
    /// A cold-start record as ColdStartRecorder writes it: a faas.coldstart root linked to the invocation, a child per
    /// phase (spawn, init split into runtime_start and app_init, first_request), the startup profile as obs.startup.*.
    /// Init takes longer in each later version (15 % a version) so that version comparisons have something to find.
    /// </summary>
    private static Span[] ColdStartRecord(Random random, Span invocation, int function, string version, DateTime requested)
    {
        var traceId = Bytes(random, 16);
        var spawnMs = 5 + random.Next(30);
        var initMs = (120 + (40 * (function % 10))) * (1 + (0.15 * (int.Parse(version[1..], System.Globalization.CultureInfo.InvariantCulture) - 1))) * (0.7 + random.NextDouble());
        var runtimeMs = initMs * (0.3 + (0.1 * random.NextDouble()));
        var firstMs = 20 + random.Next(300);
        var processStart = requested.AddMilliseconds(spawnMs);
        var listening = processStart.AddMilliseconds(initMs);
        var responseSent = listening.AddMilliseconds(firstMs);
        var root = new Span
        {
            TraceId = traceId,
            SpanId = Bytes(random, 8),
            Name = "faas.coldstart",
            Kind = SpanKind.Internal,
            StartTimeUnixNano = Nanos(requested),
            EndTimeUnixNano = Nanos(responseSent),
            Flags = 0x301,
            Links = { new Span.Types.Link { TraceId = invocation.TraceId, SpanId = invocation.SpanId } },
        };
        root.Attributes.Add(
        [
            Str("obs.coldstart.process_start", processStart.ToString("O")),
            Str("obs.coldstart.listening", listening.ToString("O")),
            Str("obs.coldstart.first_request_received", requested.ToString("O")),
            Str("obs.coldstart.first_response_sent", responseSent.ToString("O")),
            Double("obs.coldstart.init_ms", initMs),
            Double("obs.coldstart.process_start_uncertainty_ms", 0.2),
            Double("obs.coldstart.listening_uncertainty_ms", 1.1),
            Int("process.pid", 1000 + random.Next(30_000)),
            Int("obs.startup.assemblies_loaded", 60 + random.Next(40)),
            Int("obs.startup.jit_methods", 2_000 + random.Next(3_000)),
            Double("obs.startup.jit_ms", Math.Round(runtimeMs * 0.6, 2)),
            Int("obs.startup.gc_count", random.Next(4)),
            Double("obs.startup.gc_pause_ms", Math.Round(random.NextDouble() * 8, 2)),
            Strings("obs.startup.top_assemblies", ["System.Private.CoreLib 12.40 ms", "Microsoft.AspNetCore.Server.Kestrel.Core 8.10 ms", "System.Text.Json 5.30 ms", "Npgsql 4.80 ms", "Functions 2.20 ms"]),
            Strings("obs.startup.top_methods", ["Program.<Main>$ 9.10 ms", "Startup.ConfigureServices 6.70 ms", "OrderHandler..ctor 3.20 ms"]),
        ]);
        var init = Phase(random, root, "init", processStart, listening);
        return
        [
            root,
            Phase(random, root, "spawn", requested, processStart),
            init,
            Phase(random, init, "runtime_start", processStart, processStart.AddMilliseconds(runtimeMs)),
            Phase(random, init, "app_init", processStart.AddMilliseconds(runtimeMs), listening),
            Phase(random, root, "first_request", listening, responseSent),
        ];
    }

    private static Span Phase(Random random, Span parent, string phase, DateTime from, DateTime to) => new()
    {
        TraceId = parent.TraceId,
        SpanId = Bytes(random, 8),
        ParentSpanId = parent.SpanId,
        Name = "coldstart." + phase,
        Kind = SpanKind.Internal,
        StartTimeUnixNano = Nanos(from),
        EndTimeUnixNano = Nanos(to),
        Flags = 0x301,
        Attributes = { Str("obs.coldstart.phase", phase) },
    };

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

    private static KeyValue Double(string key, double value) => new() { Key = key, Value = new AnyValue { DoubleValue = value } };

    private static KeyValue Strings(string key, string[] values) =>
        new() { Key = key, Value = new AnyValue { ArrayValue = new ArrayValue { Values = { values.Select(v => new AnyValue { StringValue = v }) } } } };
}
