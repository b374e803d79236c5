using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Observability.Collector;
using Observability.Collector.Configuration;
using Observability.Collector.Security;

namespace Observability.Testing;

/// <summary>A real collector on loopback (any free ports), against a test database.</summary>
public sealed class CollectorRunner : IAsyncDisposable
{
    public const string WriteKey = "test-write-key-0123456789";
    public const string ReadKey = "test-read-key-0123456789";
    public const string MetricsKey = "test-metrics-key-0123456789";

    private readonly WebApplication _app;
    private readonly TestCertificates? _tls;

    private CollectorRunner(WebApplication app, TestCertificates? tls)
    {
        _app = app;
        _tls = tls;
        var listeners = app.Services.GetRequiredService<CollectorListeners>();
        GrpcPort = listeners.Port(ListenerRole.OtlpGrpc);
        OtlpHttpPort = listeners.Port(ListenerRole.OtlpHttp);
        HttpPort = listeners.Port(ListenerRole.Api);
        Ingest = ClientFor(OtlpHttpEndpoint, WriteKey);
        Query = ClientFor(ApiEndpoint, ReadKey);
    }

    public int GrpcPort { get; }

    public int OtlpHttpPort { get; }

    public int HttpPort { get; }

    /// <summary>"https" when the collector was started with TLS, else "http".</summary>
    public string Scheme => _tls is null ? "http" : "https";

    public Uri GrpcEndpoint => new($"{Scheme}://127.0.0.1:{GrpcPort}");

    public Uri OtlpHttpEndpoint => new($"{Scheme}://127.0.0.1:{OtlpHttpPort}");

    public Uri ApiEndpoint => new($"{Scheme}://127.0.0.1:{HttpPort}");

    /// <summary>Client for the OTLP/HTTP port, with the write key.</summary>
    public HttpClient Ingest { get; }

    /// <summary>Client for the API port, with the read key.</summary>
    public HttpClient Query { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a collector on free ports; with <paramref name="tls"/>, every port serves TLS and the runner's clients trust its CA.</summary>
    /// <param name="connectionString">The test database.</param>
    /// <param name="configure">Settings on top of the test keys and free ports.</param>
    /// <param name="tls">Certificates for TLS on every port; null: plain http.</param>
    /// <param name="logLevel">The collector's log level (Warning keeps test output short).</param>
    public static async Task<CollectorRunner> StartAsync(string connectionString, Action<CollectorOptions>? configure = null, TestCertificates? tls = null, string logLevel = "Warning")
    {
        var app = CollectorApp.Build([$"--Logging:LogLevel:Default={logLevel}"], o =>
        {
            o.DatabaseUrl = connectionString;
            o.WriteKey = WriteKey;
            o.ReadKey = ReadKey;
            o.MetricsKey = MetricsKey;
            o.OtlpGrpcPort = 0;
            o.OtlpHttpPort = 0;
            o.HttpPort = 0;
            o.TlsCertificateFile = tls?.CertificateFile;
            o.TlsKeyFile = tls?.KeyFile;
            configure?.Invoke(o);
        });
        await app.StartAsync();
        return new CollectorRunner(app, tls);
    }

    /// <summary>A client for one of this collector's ports (by its endpoint), with TLS trust when it serves TLS.</summary>
    public HttpClient ClientFor(Uri endpoint, string? key) => _tls?.Client(endpoint, key) ?? Client(endpoint.Port, key);

    /// <summary>The endpoints the collector serves, as routing sees them.</summary>
    public IReadOnlyList<Endpoint> Endpoints => [.. ((IEndpointRouteBuilder)_app).DataSources.SelectMany(d => d.Endpoints)];

    public static HttpClient Client(int port, string? key)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Ingest.Dispose();
        Query.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
