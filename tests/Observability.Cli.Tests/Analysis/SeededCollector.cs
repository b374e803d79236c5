using System.Net;
using Google.Protobuf;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using static Observability.Testing.OtlpFactory;
using Span = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Cli.Tests.Analysis;

/// <summary>
/// Class fixture: a real collector over a fresh database on the shared PostgreSQL, seeded once (within the last
/// hour, what the commands look at by default) with a function's warm and cold invocations and their cold-start
/// records, and one trace across two services.
/// </summary>
public sealed class SeededCollector : IAsyncLifetime
{
    public const string Function = "cli-orders";
    public const string FunctionVersion = "2";

    /// <summary>One invocation of <see cref="Function"/>@<see cref="FunctionVersion"/>: its duration, whether it failed, and its cold-start phases when it was cold.</summary>
    public sealed record Seeded(int MinutesAgo, double Ms, bool Error = false, ColdPhases? Cold = null);

    /// <summary>A cold start's phases in milliseconds, as the sidecar records them.</summary>
    public sealed record ColdPhases(double Spawn, double Init, double RuntimeStart, double FirstRequest);

    /// <summary>The function's invocations: eight warm (one failed) and two cold.</summary>
    public static readonly IReadOnlyList<Seeded> Invocations =
    [
        new(50, 12), new(45, 15), new(40, 18, Error: true), new(35, 21), new(30, 24), new(25, 27), new(20, 30), new(15, 33),
        new(48, 640, Cold: new ColdPhases(Spawn: 20, Init: 400, RuntimeStart: 150, FirstRequest: 60)),
        new(12, 910, Cold: new ColdPhases(Spawn: 40, Init: 700, RuntimeStart: 250, FirstRequest: 80)),
    ];

    /// <summary>The trace across services: each span's name, parent, offset and duration (ms) from the trace's start.</summary>
    public sealed record TreeSpan(string Name, string? Parent, string Service, double OffsetMs, double Ms, bool Error = false, bool Cold = false);

    public static readonly IReadOnlyList<TreeSpan> Tree =
    [
        new("GET /checkout", null, "cli-gateway", 0, 200),
        new("call payments", "GET /checkout", "cli-gateway", 10, 150),
        new("POST /payments", "call payments", "cli-payments", 20, 120, Cold: true),
        new("charge card", "POST /payments", "cli-payments", 30, 50, Error: true),
        new("render receipt", "GET /checkout", "cli-gateway", 170, 20),
    ];

    /// <summary>A function with two versions days ago (out of the other commands' default ranges), for obs coldstarts compare.</summary>
    public const string CompareFunction = "cli-search";

    public const int CompareInvocations = 30;

    /// <summary>Init durations (ms) of the older version's cold starts, and of the newer one's: slower, and more of them.</summary>
    public static readonly double[] FromInits = [.. Enumerable.Range(0, 6).Select(i => 100.0 + 10 * i)];

    public static readonly double[] ToInits = [.. Enumerable.Range(0, 12).Select(i => 300.0 + 10 * i)];

    public const string ExceptionType = "System.InvalidOperationException";

    /// <summary>The function's failure snapshots: two of one exception (one group), one 503 without an exception (another).</summary>
    public IReadOnlyList<SnapshotSeed.Snapshot> Snapshots { get; private set; } = [];

    private CollectorRunner _collector = null!;

    public Uri ApiEndpoint => _collector.ApiEndpoint;

    /// <summary>The id of the trace made of <see cref="Tree"/>, as the API writes it.</summary>
    public string TreeTraceId { get; private set; } = string.Empty;

    public DateTime TreeStart { get; private set; }

    public CollectorRunner Collector => _collector;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.Shared;
        _collector = await CollectorRunner.StartAsync(await server.CreateDatabaseAsync("cli"));
        var now = DateTime.UtcNow;
        var spans = new List<Span>();
        foreach (var s in Invocations)
        {
            var invocation = Invocation(now.AddMinutes(-s.MinutesAgo), s.Ms, s.Cold is not null, s.Error);
            spans.Add(invocation);
            if (s.Cold is { } phases)
            {
                spans.AddRange(ColdStartRecord(invocation, phases));
            }
        }

        await IngestAsync(Export(Function, FunctionVersion, spans));
        await IngestAsync(TreeExport(now.AddMinutes(-5)));
        await IngestAsync(Export(CompareFunction, "1", VersionSpans(now.AddDays(-3), FromInits)));
        await IngestAsync(Export(CompareFunction, "2", VersionSpans(now.AddDays(-2), ToInits)));

        const string Stack = "   at CliOrders.OrderHandler.Get(Int32 id) in /src/OrderHandler.cs:line 42\n   at CliOrders.Program.<>c.<Main>b__0_1(HttpContext ctx) in /src/Program.cs:line 17";
        Snapshots =
        [
            new(Function, FunctionVersion, now.AddMinutes(-30), "exception", 500, "http://localhost/orders/42", ExceptionType, Stack, Message: "order 42 has no customer"),
            new(Function, FunctionVersion, now.AddMinutes(-10), "exception", 500, "http://localhost/orders/43", ExceptionType, Stack, Message: "order 43 has no customer"),
            new(Function, FunctionVersion, now.AddMinutes(-20), "status_5xx", 503, "http://localhost/orders/44"),
        ];
        using var response = await _collector.Ingest.PostAsync("/v1/logs", Protobuf(SnapshotSeed.Export([.. Snapshots])));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // CompareInvocations invocations a minute apart from start, the first ones cold with these init durations.
    private static IEnumerable<Span> VersionSpans(DateTime start, double[] inits)
    {
        for (var i = 0; i < CompareInvocations; i++)
        {
            var cold = i < inits.Length;
            var invocation = Invocation(start.AddMinutes(i), cold ? inits[i] + 50 : 20, cold, error: false);
            yield return invocation;
            if (cold)
            {
                foreach (var span in ColdStartRecord(invocation, new ColdPhases(Spawn: 10, Init: inits[i], RuntimeStart: inits[i] / 2, FirstRequest: 30)))
                {
                    yield return span;
                }
            }
        }
    }

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    /// <summary>The lower percentile (the smallest value with at least p of the values at or below it), as the collector defines it.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Ceiling(p * sorted.Count) - 1];
    }

    public async Task IngestAsync(ExportTraceServiceRequest request)
    {
        using var response = await _collector.Ingest.PostAsync("/v1/traces", Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static Span Invocation(DateTime start, double ms, bool cold, bool error) => new()
    {
        TraceId = NewTraceId(),
        SpanId = NewSpanId(),
        Name = "GET /orders/{id}",
        Kind = Span.Types.SpanKind.Server,
        StartTimeUnixNano = Nanos(start),
        EndTimeUnixNano = Nanos(start) + (ulong)(ms * 1e6),
        Attributes = { Attr("faas.trigger", "http"), Attr("faas.coldstart", cold), Attr("http.route", "/orders/{id}") },
        Status = new Status { Code = error ? Status.Types.StatusCode.Error : Status.Types.StatusCode.Ok },
    };

    /// <summary>A cold-start record as the sidecar's ColdStartRecorder writes it: a faas.coldstart root linked to the invocation, one child per phase.</summary>
    public static IEnumerable<Span> ColdStartRecord(Span invocation, ColdPhases phases)
    {
        var traceId = NewTraceId();
        var processStart = invocation.StartTimeUnixNano + (ulong)(phases.Spawn * 1e6);
        var listening = processStart + (ulong)(phases.Init * 1e6);
        var ready = processStart + (ulong)(phases.RuntimeStart * 1e6);
        var end = listening + (ulong)(phases.FirstRequest * 1e6);
        var root = new Span
        {
            TraceId = traceId,
            SpanId = NewSpanId(),
            Name = "faas.coldstart",
            Kind = Span.Types.SpanKind.Internal,
            StartTimeUnixNano = invocation.StartTimeUnixNano,
            EndTimeUnixNano = end,
            Attributes = { new KeyValue { Key = "obs.coldstart.init_ms", Value = new AnyValue { DoubleValue = phases.Init } } },
            Links = { new Span.Types.Link { TraceId = invocation.TraceId, SpanId = invocation.SpanId } },
        };
        yield return root;
        Span Phase(string phase, ByteString parent, ulong from, ulong to) => new()
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
        yield return Phase("spawn", root.SpanId, invocation.StartTimeUnixNano, processStart);
        var init = Phase("init", root.SpanId, processStart, listening);
        yield return init;
        yield return Phase("runtime_start", init.SpanId, processStart, ready);
        yield return Phase("app_init", init.SpanId, ready, listening);
        yield return Phase("first_request", root.SpanId, listening, end);
    }

    public static ExportTraceServiceRequest Export(string function, string version, IEnumerable<Span> spans) => new()
    {
        ResourceSpans =
        {
            new ResourceSpans
            {
                Resource = new Resource { Attributes = { Attr("service.name", function), Attr("faas.name", function), Attr("faas.version", version), Attr("faas.instance", function + "-" + version) } },
                ScopeSpans = { new ScopeSpans { Spans = { spans } } },
            },
        },
    };

    private ExportTraceServiceRequest TreeExport(DateTime start)
    {
        TreeStart = start;
        var traceId = NewTraceId();
        TreeTraceId = Convert.ToHexStringLower(traceId.ToByteArray());
        var ids = Tree.ToDictionary(s => s.Name, _ => NewSpanId());
        var request = new ExportTraceServiceRequest();
        foreach (var service in Tree.GroupBy(s => s.Service))
        {
            var resource = new Resource { Attributes = { Attr("service.name", service.Key) } };
            if (service.Key == "cli-payments")
            {
                resource.Attributes.Add([Attr("faas.name", "cli-payments"), Attr("faas.version", "1")]);
            }

            request.ResourceSpans.Add(new ResourceSpans
            {
                Resource = resource,
                ScopeSpans =
                {
                    new ScopeSpans
                    {
                        Spans =
                        {
                            service.Select(s => new Span
                            {
                                TraceId = traceId,
                                SpanId = ids[s.Name],
                                ParentSpanId = s.Parent is null ? ByteString.Empty : ids[s.Parent],
                                Name = s.Name,
                                Kind = s.Name.StartsWith("call", StringComparison.Ordinal) ? Span.Types.SpanKind.Client
                                    : s.Parent is null || s.Cold ? Span.Types.SpanKind.Server : Span.Types.SpanKind.Internal,
                                StartTimeUnixNano = Nanos(start.AddMilliseconds(s.OffsetMs)),
                                EndTimeUnixNano = Nanos(start.AddMilliseconds(s.OffsetMs + s.Ms)),
                                Attributes = { Attr("faas.coldstart", s.Cold), Attr("http.route", "/" + s.Name.Split(' ')[^1].TrimStart('/')) },
                                Status = new Status { Code = s.Error ? Status.Types.StatusCode.Error : Status.Types.StatusCode.Unset, Message = s.Error ? "card declined" : string.Empty },
                            }),
                        },
                    },
                },
            });
        }

        return request;
    }
}
