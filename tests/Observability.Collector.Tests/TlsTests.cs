using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Collector.Tests;

/// <summary>
/// With a PEM certificate and key configured, every port serves TLS: OTLP/HTTP and the API over https (HTTP/1.1
/// and HTTP/2 by ALPN), OTLP/gRPC over TLS (h2), and plain http is refused. The certificate is one the test makes,
/// signed by a CA of its own that the clients trust. A bad TLS setting stops the start and is named.
/// </summary>
public sealed class TlsTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const string DatabaseUrl = "postgres://obs:secret@db.example:5432/obs";

    private readonly TestCertificates _certificates = TestCertificates.Create();
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString, tls: _certificates);

    public async Task DisposeAsync()
    {
        await _collector.DisposeAsync();
        _certificates.Dispose();
    }

    [Fact]
    public async Task OTLP_HTTP_export_over_https_is_stored_and_read_back_over_https()
    {
        var traceId = OtlpFactory.NewTraceId();
        var hex = Convert.ToHexStringLower(traceId.ToByteArray());

        using var export = await _collector.Ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), OtlpFactory.Protobuf(OtlpFactory.Traces("tls-http", null, OtlpFactory.Span("GET /secure", traceId))));
        var trace = await _collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/traces/{hex}");

        Assert.Equal("https", _collector.OtlpHttpEndpoint.Scheme);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("GET /secure", trace.GetProperty("spans")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task OTLP_gRPC_export_over_TLS_is_stored()
    {
        var traceId = OtlpFactory.NewTraceId();
        using var channel = GrpcChannel.ForAddress(_collector.GrpcEndpoint, new GrpcChannelOptions { HttpHandler = _certificates.Handler() });

        await new TraceService.TraceServiceClient(channel).ExportAsync(
            OtlpFactory.Traces("tls-grpc", null, OtlpFactory.Span("GET /secure-grpc", traceId)),
            new Metadata { { "authorization", "Bearer " + CollectorRunner.WriteKey } });
        using var response = await _collector.Query.GetAsync(new Uri($"/api/v1/traces/{Convert.ToHexStringLower(traceId.ToByteArray())}", UriKind.Relative));

        Assert.Equal("https", _collector.GrpcEndpoint.Scheme);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 0)]
    public async Task The_API_and_OTLP_HTTP_ports_speak_HTTP_1_1_and_HTTP_2_over_TLS(int major, int minor)
    {
        var version = new Version(major, minor);
        using var client = new HttpClient(_certificates.Handler());

        foreach (var (endpoint, path, key) in new[] { (_collector.ApiEndpoint, "/api/v1/services", CollectorRunner.ReadKey), (_collector.OtlpHttpEndpoint, "/v1/traces", CollectorRunner.WriteKey) })
        {
            using var request = new HttpRequestMessage(path == "/v1/traces" ? HttpMethod.Post : HttpMethod.Get, new Uri(endpoint, path))
            {
                Version = version,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = path == "/v1/traces" ? OtlpFactory.Protobuf(new ExportTraceServiceRequest()) : null,
            };
            request.Headers.Authorization = new("Bearer", key);

            using var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(version, response.Version);
        }
    }

    [Fact]
    public async Task Plain_http_is_refused_on_every_TLS_port()
    {
        foreach (var port in new[] { _collector.OtlpHttpPort, _collector.HttpPort })
        {
            using var client = CollectorRunner.Client(port, CollectorRunner.ReadKey);

            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri("/healthz", UriKind.Relative)));
        }

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_collector.GrpcPort}");
        var e = await Assert.ThrowsAsync<RpcException>(async () => await new TraceService.TraceServiceClient(channel).ExportAsync(
            new ExportTraceServiceRequest(), new Metadata { { "authorization", "Bearer " + CollectorRunner.WriteKey } }));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_CA_cannot_connect()
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = _collector.ApiEndpoint };

        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri("/healthz", UriKind.Relative)));

        Assert.IsType<System.Security.Authentication.AuthenticationException>(e.InnerException);
    }

    // ---- settings ----

    public static TheoryData<string, string> BadPairs => new()
    {
        { "a certificate file that does not exist", "TlsCertificateFile" },
        { "a key file that does not exist", "TlsKeyFile" },
        { "a certificate file that is a folder", "TlsCertificateFile" },
        { "a key where the certificate should be", "TlsCertificateFile" },
        { "a certificate where the key should be", "TlsKeyFile" },
        { "a key of another certificate", "TlsCertificateFile and Collector:TlsKeyFile" },
        { "a certificate without a key file", "TlsKeyFile" },
        { "a key file without a certificate", "TlsCertificateFile" },
    };

    [Theory]
    [MemberData(nameof(BadPairs))]
    public void Collector_refuses_to_start_with_a_TLS_file_it_cannot_serve_and_names_the_setting(string problem, string named)
    {
        var c = _certificates;
        var missing = Path.Combine(c.Directory, "missing.pem");
        var (certificate, key) = problem switch
        {
            "a certificate file that does not exist" => (missing, c.KeyFile),
            "a key file that does not exist" => (c.CertificateFile, missing),
            "a certificate file that is a folder" => (c.Directory, c.KeyFile),
            "a key where the certificate should be" => (c.KeyFile, c.KeyFile),
            "a certificate where the key should be" => (c.CertificateFile, c.CertificateFile),
            "a key of another certificate" => (c.CertificateFile, c.OtherKeyFile),
            "a certificate without a key file" => (c.CertificateFile, null),
            _ => ((string?)null, c.KeyFile),
        };

        var e = Assert.Throws<OptionsValidationException>(() => CollectorApp.Build([], o =>
        {
            o.DatabaseUrl = DatabaseUrl;
            o.WriteKey = CollectorRunner.WriteKey;
            o.ReadKey = CollectorRunner.ReadKey;
            o.TlsCertificateFile = certificate;
            o.TlsKeyFile = key;
        }));

        Assert.True(e.Message.Contains("Collector:" + named, StringComparison.Ordinal), $"{problem}: expected the message to name Collector:{named}, got: {e.Message}");
    }
}
