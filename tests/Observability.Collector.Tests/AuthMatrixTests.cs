using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Routing;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Collector.Tests;

/// <summary>
/// Every endpoint the collector serves, against every kind of credential: none, an unknown key, and the write,
/// read and metrics keys. The table below states what each endpoint accepts; a test checks that it lists exactly
/// the endpoints routing knows, so an endpoint added without a line here fails the build's tests.
/// </summary>
public sealed class AuthMatrixTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const string Service = "matrix-service";
    private const string UnknownKey = "not-a-key-of-this-collector-0123";

    private static readonly string?[] Credentials = [null, UnknownKey, CollectorRunner.WriteKey, CollectorRunner.ReadKey, CollectorRunner.MetricsKey];

    private CollectorRunner _collector = null!;
    private GrpcChannel _channel = null!;
    private string _traceId = null!;

    /// <summary>Who may call an endpoint.</summary>
    public enum Access
    {
        Anyone,
        WriteKey,
        ReadKey,
        MetricsOrReadKey,
    }

    private static Probe[] Probes =>
    [
        OtlpHttp("/v1/traces", new ExportTraceServiceRequest()),
        OtlpHttp("/v1/logs", new ExportLogsServiceRequest()),
        new("/v1/dumps/{dumpId}", Access.WriteKey, "HTTP 201", async (t, key) =>
        {
            using var client = CollectorRunner.Client(t._collector.OtlpHttpPort, key);
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("a dump"));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            using var response = await client.PutAsync(new Uri($"/v1/dumps/{Guid.NewGuid():N}", UriKind.Relative), content);
            return await OutcomeAsync(response);
        }),
        new("/opentelemetry.proto.collector.trace.v1.TraceService/Export", Access.WriteKey, "gRPC OK",
            (t, key) => t.GrpcAsync(c => new TraceService.TraceServiceClient(c).ExportAsync(new ExportTraceServiceRequest(), Bearer(key)).ResponseAsync)),
        new("/opentelemetry.proto.collector.logs.v1.LogsService/Export", Access.WriteKey, "gRPC OK",
            (t, key) => t.GrpcAsync(c => new LogsService.LogsServiceClient(c).ExportAsync(new ExportLogsServiceRequest(), Bearer(key)).ResponseAsync)),
        new("opentelemetry.proto.collector.trace.v1.TraceService/{unimplementedMethod:grpcunimplemented}", Access.WriteKey, "gRPC Unimplemented",
            (t, key) => t.RawGrpcAsync("opentelemetry.proto.collector.trace.v1.TraceService", "NoSuchMethod", key)),
        new("opentelemetry.proto.collector.logs.v1.LogsService/{unimplementedMethod:grpcunimplemented}", Access.WriteKey, "gRPC Unimplemented",
            (t, key) => t.RawGrpcAsync("opentelemetry.proto.collector.logs.v1.LogsService", "NoSuchMethod", key)),
        new("{unimplementedService}/{unimplementedMethod:grpcunimplemented}", Access.WriteKey, "gRPC Unimplemented",
            (t, key) => t.RawGrpcAsync("no.such.v1.Service", "Export", key)),
        Api("/healthz", Access.Anyone, _ => "/healthz"),
        Redirect("/", "/ui/"),
        Api("/ui/{**path}", Access.ReadKey, _ => "/ui/traces/deep-link"),
        Api("/metrics", Access.MetricsOrReadKey, _ => "/metrics"),
        Api("/api/v1/traces/{traceId}", Access.ReadKey, t => $"/api/v1/traces/{t._traceId}"),
        Api("/api/v1/traces", Access.ReadKey, _ => $"/api/v1/traces?service={Service}"),
        Api("/api/v1/services", Access.ReadKey, _ => "/api/v1/services"),
        Api("/api/v1/services/{service}/operations", Access.ReadKey, _ => $"/api/v1/services/{Service}/operations"),
        Api("/api/v1/snapshots", Access.ReadKey, _ => "/api/v1/snapshots"),
        Api("/api/v1/functions", Access.ReadKey, _ => "/api/v1/functions"),
        Api("/api/v1/slis", Access.ReadKey, _ => "/api/v1/slis?function=matrix-function"),
        Api("/api/v1/coldstarts", Access.ReadKey, _ => "/api/v1/coldstarts"),
        Api("/api/v1/coldstarts/compare", Access.ReadKey, _ => "/api/v1/coldstarts/compare?function=no-such-function", "HTTP 404"),
        Api("/api/v1/failures", Access.ReadKey, _ => "/api/v1/failures"),
        // Nothing to find: the read key is let through to a 404 that says so.
        Api("/api/v1/failures/{fingerprint}", Access.ReadKey, _ => "/api/v1/failures/0123456789abcdef", "HTTP 404"),
        Api("/api/v1/snapshots/{id}", Access.ReadKey, _ => $"/api/v1/snapshots/{new string('a', 32)}", "HTTP 404"),
        Api("/api/v1/snapshots/{id}/dump", Access.ReadKey, _ => $"/api/v1/snapshots/{new string('a', 32)}/dump", "HTTP 404"),
        Api("/jaeger/api/services", Access.ReadKey, _ => "/jaeger/api/services"),
        Api("/jaeger/api/services/{service}/operations", Access.ReadKey, _ => $"/jaeger/api/services/{Service}/operations"),
        Api("/jaeger/api/operations", Access.ReadKey, _ => $"/jaeger/api/operations?service={Service}"),
        Api("/jaeger/api/traces/{traceId}", Access.ReadKey, t => $"/jaeger/api/traces/{t._traceId}"),
        Api("/jaeger/api/traces", Access.ReadKey, _ => $"/jaeger/api/traces?service={Service}"),
    ];

    public async Task InitializeAsync()
    {
        _collector = await CollectorRunner.StartAsync(database.ConnectionString);
        _channel = GrpcChannel.ForAddress(_collector.GrpcEndpoint);
        var traceId = OtlpFactory.NewTraceId();
        _traceId = Convert.ToHexStringLower(traceId.ToByteArray());
        using var stored = await _collector.Ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), OtlpFactory.Protobuf(OtlpFactory.Traces(Service, null, OtlpFactory.Span("GET /matrix", traceId))));
        stored.EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _collector.DisposeAsync();
    }

    [Fact]
    public void The_matrix_lists_every_endpoint_the_collector_serves()
    {
        var served = _collector.Endpoints.OfType<RouteEndpoint>().Select(e => e.RoutePattern.RawText!).Order(StringComparer.Ordinal).ToList();
        var listed = Probes.Select(p => p.Pattern).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(served, listed);
    }

    [Fact]
    public async Task Every_endpoint_answers_each_credential_as_its_scope_says()
    {
        var wrong = new List<string>();
        foreach (var probe in Probes)
        {
            foreach (var key in Credentials)
            {
                var (expected, needs) = Expected(probe, key);
                var (outcome, message) = await probe.Call(this, key);
                if (outcome != expected)
                {
                    wrong.Add($"{probe.Pattern} with {Name(key)}: expected {expected}, got {outcome} ({message})");
                }
                else if (needs is not null && message?.Contains(needs, StringComparison.Ordinal) != true)
                {
                    wrong.Add($"{probe.Pattern} with {Name(key)}: the refusal should say it needs {needs}, said: {message}");
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public async Task An_endpoint_asked_for_on_another_port_is_not_found_even_with_its_key()
    {
        foreach (var (path, port, key) in new[]
        {
            ("/v1/traces", _collector.HttpPort, CollectorRunner.WriteKey),
            ("/api/v1/services", _collector.OtlpHttpPort, CollectorRunner.ReadKey),
            ("/metrics", _collector.OtlpHttpPort, CollectorRunner.MetricsKey),
            ("/healthz", _collector.OtlpHttpPort, null),
        })
        {
            using var client = CollectorRunner.Client(port, key);
            using var response = path == "/v1/traces"
                ? await client.PostAsync(new Uri(path, UriKind.Relative), OtlpFactory.Protobuf(new ExportTraceServiceRequest()))
                : await client.GetAsync(new Uri(path, UriKind.Relative));

            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path} on port {port}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task The_metrics_key_reads_the_collector_metrics()
    {
        using var client = CollectorRunner.Client(_collector.HttpPort, CollectorRunner.MetricsKey);

        var text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Contains("obs_collector_", text, StringComparison.Ordinal);
    }

    // ---- expectations ----

    private static (string Outcome, string? Needs) Expected(Probe probe, string? key)
    {
        var scope = key switch
        {
            CollectorRunner.WriteKey => Access.WriteKey,
            CollectorRunner.ReadKey => Access.ReadKey,
            CollectorRunner.MetricsKey => Access.MetricsOrReadKey,
            _ => (Access?)null,
        };
        var allowed = probe.Access switch
        {
            Access.Anyone => true,
            Access.MetricsOrReadKey => scope is Access.MetricsOrReadKey or Access.ReadKey,
            _ => scope == probe.Access,
        };
        if (allowed)
        {
            return (probe.Allowed, null);
        }

        var needs = probe.Access switch
        {
            Access.WriteKey => "the write key",
            Access.ReadKey => "the read key",
            _ => "the metrics key",
        };
        var grpc = probe.Allowed.StartsWith("gRPC", StringComparison.Ordinal);
        return scope is null
            ? (grpc ? "gRPC Unauthenticated" : "HTTP 401", needs)
            : (grpc ? "gRPC PermissionDenied" : "HTTP 403", needs);
    }

    private static string Name(string? key) => key switch
    {
        null => "no key",
        UnknownKey => "an unknown key",
        CollectorRunner.WriteKey => "the write key",
        CollectorRunner.ReadKey => "the read key",
        _ => "the metrics key",
    };

    // ---- calls ----

    private static Probe OtlpHttp(string path, Google.Protobuf.IMessage body) => new(path, Access.WriteKey, "HTTP 200", async (t, key) =>
    {
        using var client = CollectorRunner.Client(t._collector.OtlpHttpPort, key);
        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), OtlpFactory.Protobuf(body));
        return await OutcomeAsync(response);
    });

    private static Probe Api(string pattern, Access access, Func<AuthMatrixTests, string> path, string allowed = "HTTP 200") => new(pattern, access, allowed, async (t, key) =>
    {
        using var client = CollectorRunner.Client(t._collector.HttpPort, key);
        using var response = await client.GetAsync(new Uri(path(t), UriKind.Relative));
        return await OutcomeAsync(response);
    });

    /// <summary>A redirect anyone may follow (the target asks for its own key).</summary>
    private static Probe Redirect(string path, string target) => new(path, Access.Anyone, $"HTTP 302 to {target}", async (t, key) =>
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{t._collector.HttpPort}") };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        var (outcome, message) = await OutcomeAsync(response);
        return (response.Headers.Location is { } location ? $"{outcome} to {location}" : outcome, message);
    });

    private static async Task<(string, string?)> OutcomeAsync(HttpResponseMessage response)
    {
        var code = (int)response.StatusCode;
        if (code is 401 or 403)
        {
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return ($"HTTP {code}", json.RootElement.GetProperty("error").GetString());
        }

        return ($"HTTP {code}", null);
    }

    private async Task<(string, string?)> GrpcAsync(Func<GrpcChannel, Task> call)
    {
        try
        {
            await call(_channel);
            return ("gRPC OK", null);
        }
        catch (RpcException e)
        {
            return ($"gRPC {e.StatusCode}", e.Status.Detail);
        }
    }

    private Task<(string, string?)> RawGrpcAsync(string service, string method, string? key)
    {
        var bytes = Marshallers.Create(b => b, b => b);
        var descriptor = new Method<byte[], byte[]>(MethodType.Unary, service, method, bytes, bytes);
        return GrpcAsync(c => c.CreateCallInvoker().AsyncUnaryCall(descriptor, null, new CallOptions(Bearer(key)), Encoding.UTF8.GetBytes("x")).ResponseAsync);
    }

    private static Metadata Bearer(string? key) => key is null ? [] : new Metadata { { "authorization", "Bearer " + key } };

    private sealed record Probe(string Pattern, Access Access, string Allowed, Func<AuthMatrixTests, string?, Task<(string Outcome, string? Message)>> Call);
}
