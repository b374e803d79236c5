using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Observability.Testing;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Observability.Collector.Tests;

/// <summary>
/// The OpenTelemetry .NET SDK exports into a real collector; the trace reads back whole through both APIs. Over
/// TLS too, trusting the collector's private CA through the SDK's own OTEL_EXPORTER_OTLP_CERTIFICATE setting.
/// </summary>
public sealed class SdkExportTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Theory]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    [InlineData(OtlpExportProtocol.Grpc)]
    public async Task Sdk_export_is_read_back_whole_through_api_and_jaeger(OtlpExportProtocol protocol)
    {
        var service = "checkout-" + protocol;
        using var source = new ActivitySource("test.sdk." + protocol);
        using (var provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService(service).AddAttributes([new("faas.name", "checkout"), new("faas.version", "7"), new("faas.instance", "inst-1")]))
            .AddSource(source.Name)
            .AddOtlpExporter(o =>
            {
                o.Protocol = protocol;
                o.Endpoint = protocol == OtlpExportProtocol.Grpc ? _collector.GrpcEndpoint : new Uri(_collector.OtlpHttpEndpoint, "/v1/traces");
                o.Headers = "Authorization=Bearer " + CollectorRunner.WriteKey;
                o.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build())
        {
            using var root = source.StartActivity("GET /checkout", ActivityKind.Server)!;
            root.SetTag("faas.trigger", "http");
            root.SetTag("faas.coldstart", true);
            root.SetTag("http.response.status_code", 200);
            root.SetTag("cart.items", new[] { "a", "b" });
            using (var child = source.StartActivity("SELECT cart", ActivityKind.Client)!)
            {
                child.SetTag("db.system", "postgresql");
                child.AddEvent(new ActivityEvent("row read", tags: new ActivityTagsCollection { ["rows"] = 3L }));
                child.SetStatus(ActivityStatusCode.Error, "timeout");
            }

            root.Stop();
            var traceId = root.TraceId.ToHexString();
            provider.ForceFlush();

            var trace = await _collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/traces/{traceId}");
            var spans = trace.GetProperty("spans").EnumerateArray().ToList();
            Assert.Equal(2, spans.Count);
            var apiRoot = spans[0];
            var apiChild = spans[1];
            Assert.Equal("GET /checkout", apiRoot.GetProperty("name").GetString());
            Assert.Equal("server", apiRoot.GetProperty("kind").GetString());
            Assert.Equal(0, apiRoot.GetProperty("depth").GetInt32());
            Assert.Equal(root.SpanId.ToHexString(), apiRoot.GetProperty("spanId").GetString());
            Assert.Equal(service, apiRoot.GetProperty("service").GetString());
            Assert.Equal("checkout", apiRoot.GetProperty("function").GetProperty("name").GetString());
            Assert.Equal("7", apiRoot.GetProperty("function").GetProperty("version").GetString());
            Assert.True(apiRoot.GetProperty("function").GetProperty("coldStart").GetBoolean());
            Assert.Equal(200, apiRoot.GetProperty("attributes").GetProperty("http.response.status_code").GetInt32());
            Assert.Equal("b", apiRoot.GetProperty("attributes").GetProperty("cart.items")[1].GetString());
            Assert.Equal("inst-1", apiRoot.GetProperty("resource").GetProperty("faas.instance").GetString());

            Assert.Equal(root.SpanId.ToHexString(), apiChild.GetProperty("parentSpanId").GetString());
            Assert.Equal(1, apiChild.GetProperty("depth").GetInt32());
            Assert.Equal("error", apiChild.GetProperty("status").GetProperty("code").GetString());
            Assert.Equal("timeout", apiChild.GetProperty("status").GetProperty("message").GetString());
            Assert.Equal("postgresql", apiChild.GetProperty("attributes").GetProperty("db.system").GetString());
            var evt = apiChild.GetProperty("events")[0];
            Assert.Equal("row read", evt.GetProperty("name").GetString());
            Assert.Equal(3, evt.GetProperty("attributes").GetProperty("rows").GetInt32());

            var jaeger = await _collector.Query.GetFromJsonAsync<JsonElement>($"/jaeger/api/traces/{traceId}");
            var jTrace = jaeger.GetProperty("data")[0];
            Assert.Equal(traceId, jTrace.GetProperty("traceID").GetString());
            var jSpans = jTrace.GetProperty("spans").EnumerateArray().ToDictionary(s => s.GetProperty("operationName").GetString()!);
            var jChild = jSpans["SELECT cart"];
            var reference = jChild.GetProperty("references")[0];
            Assert.Equal("CHILD_OF", reference.GetProperty("refType").GetString());
            Assert.Equal(root.SpanId.ToHexString(), reference.GetProperty("spanID").GetString());
            Assert.Contains(jChild.GetProperty("tags").EnumerateArray(), t => t.GetProperty("key").GetString() == "error" && t.GetProperty("value").GetBoolean());
            Assert.Equal("row read", jChild.GetProperty("logs")[0].GetProperty("fields")[0].GetProperty("value").GetString());
            var process = jTrace.GetProperty("processes").GetProperty(jChild.GetProperty("processID").GetString()!);
            Assert.Equal(service, process.GetProperty("serviceName").GetString());
            Assert.Equal(root.Duration.Ticks / 10, jSpans["GET /checkout"].GetProperty("duration").GetInt64(), tolerance: 1);

            var search = await _collector.Query.GetFromJsonAsync<JsonElement>($"/jaeger/api/traces?service={service}&operation=GET%20/checkout&limit=5");
            Assert.Equal(traceId, search.GetProperty("data")[0].GetProperty("traceID").GetString());
            var services = await _collector.Query.GetFromJsonAsync<JsonElement>("/jaeger/api/services");
            Assert.Contains(services.GetProperty("data").EnumerateArray(), s => s.GetString() == service);
            var operations = await _collector.Query.GetFromJsonAsync<JsonElement>($"/jaeger/api/services/{service}/operations");
            Assert.Equal(new[] { "GET /checkout", "SELECT cart" }, operations.GetProperty("data").EnumerateArray().Select(o => o.GetString()!).Order().ToArray());
        }
    }

    [Theory]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    [InlineData(OtlpExportProtocol.Grpc)]
    public async Task Sdk_exports_over_https_to_a_TLS_collector_trusting_its_CA(OtlpExportProtocol protocol)
    {
        using var certificates = TestCertificates.Create();
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString, tls: certificates);
        using var source = new ActivitySource("test.sdk.tls." + protocol);
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_CERTIFICATE"] = certificates.AuthorityFile,
        }).Build();
        string traceId;
        using (var provider = Sdk.CreateTracerProviderBuilder()
            .ConfigureServices(services => services.AddSingleton<IConfiguration>(settings))
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("secure-" + protocol))
            .AddSource(source.Name)
            .AddOtlpExporter(o =>
            {
                o.Protocol = protocol;
                o.Endpoint = protocol == OtlpExportProtocol.Grpc ? collector.GrpcEndpoint : new Uri(collector.OtlpHttpEndpoint, "/v1/traces");
                o.Headers = "Authorization=Bearer " + CollectorRunner.WriteKey;
                o.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build())
        {
            using (var span = source.StartActivity("GET /secure", ActivityKind.Server)!)
            {
                traceId = span.TraceId.ToHexString();
            }

            Assert.True(provider.ForceFlush(10_000));
        }

        using var response = await collector.Query.GetAsync(new Uri($"/api/v1/traces/{traceId}", UriKind.Relative));

        Assert.Equal("https", collector.OtlpHttpEndpoint.Scheme);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }
}
