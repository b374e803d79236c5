using System.Net;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>
/// A sidecar exports over https to a collector that serves TLS with a certificate from a private CA, trusting that
/// CA through its OtlpCertificate setting (OTEL_EXPORTER_OTLP_CERTIFICATE semantics): spans and failure snapshots
/// both arrive.
/// </summary>
public sealed class TlsExportTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private readonly TestCertificates _certificates = TestCertificates.Create();
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString, tls: _certificates);

    public async Task DisposeAsync()
    {
        await _collector.DisposeAsync();
        _certificates.Dispose();
    }

    [Fact]
    public async Task Spans_and_a_failure_snapshot_reach_a_TLS_collector_whose_CA_the_sidecar_is_told_to_trust()
    {
        await using var sidecar = await SidecarRunner.StartAsync("tls-fn", _collector, $"OtlpCertificate={_certificates.AuthorityFile}");

        Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
        using var content = new StringContent("{\"order\": 7}", System.Text.Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.InternalServerError, (await sidecar.Client.PostAsync("/echo?status=500", content)).StatusCode);

        Assert.Equal("https", _collector.OtlpHttpEndpoint.Scheme);
        Assert.Single(await _collector.SpansAsync("tls-fn", "GET /hello", n => n >= 1));
        var failed = Assert.Single(await _collector.SpansAsync("tls-fn", "POST /echo", n => n >= 1));
        var snapshot = Assert.Single(await _collector.SnapshotsAsync("tls-fn", 1));
        Assert.Equal(failed.GetProperty("spanId").GetString(), snapshot.GetProperty("spanId").GetString());
    }
}
