using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Observability.Collector.Storage;
using Observability.Testing;
using static Observability.Testing.OtlpFactory;
using static Observability.Testing.SnapshotSeed;

namespace Observability.Collector.Tests;

/// <summary>
/// Dumps over the real OTLP/HTTP listener into the real PostgreSQL: PUT /v1/dumps/{id} with the write key, back out
/// through GET /api/v1/snapshots/{id}/dump with the read key, refused and counted over MaxDumpBytes, dropped by retention.
/// </summary>
public sealed class DumpTransportTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const int MiB = 1024 * 1024;
    private const long Limit = 8 * MiB;

    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString, o => o.MaxDumpBytes = Limit);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task A_dump_uploaded_with_the_write_key_downloads_byte_for_byte_with_the_read_key()
    {
        // Not a whole number of the store's chunks, so the last one is short.
        var dump = RandomNumberGenerator.GetBytes((5 * MiB) + 12_345);
        var dumpId = Guid.NewGuid().ToString("N");
        var snapshotId = await SnapshotWithDumpAsync("dump-fn", dumpId, "/var/tmp/obs/dumps/dump-4242-20261201T101500.000Z-triage.dmp", dump.Length);

        var before = await _collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/snapshots/{snapshotId}");
        Assert.False(before.GetProperty("dump").GetProperty("downloadable").GetBoolean());
        using (var notYet = await _collector.Query.GetAsync($"/api/v1/snapshots/{snapshotId}/dump"))
        {
            Assert.Equal(HttpStatusCode.NotFound, notYet.StatusCode);
            Assert.Contains("(yet)", (await notYet.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        using (var put = await PutAsync(_collector.Ingest, dumpId, dump))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(dump.Length, (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("bytes").GetInt64());
        }

        var after = await _collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/snapshots/{snapshotId}");
        Assert.True(after.GetProperty("dump").GetProperty("downloadable").GetBoolean());
        Assert.Equal(dumpId, after.GetProperty("dump").GetProperty("id").GetString());

        using var download = await _collector.Query.GetAsync($"/api/v1/snapshots/{snapshotId}/dump", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("dump-4242-20261201T101500.000Z-triage.dmp", download.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Equal(dump.Length, download.Content.Headers.ContentLength);
        Assert.Equal(SHA256.HashData(dump), await SHA256.HashDataAsync(await download.Content.ReadAsStreamAsync()));

        // Kept in rows of 1 MiB, not as one value.
        var chunks = await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM dump_chunks WHERE dump_id = $1", dumpId);
        Assert.Equal((dump.Length + MiB - 1) / MiB, chunks);

        // Written once: other bytes under the same id (a write key and an id read from a snapshot) change nothing.
        using (var again = await PutAsync(_collector.Ingest, dumpId, RandomNumberGenerator.GetBytes(3 * MiB)))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Contains("already stored", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(SHA256.HashData(dump), SHA256.HashData(await _collector.Query.GetByteArrayAsync($"/api/v1/snapshots/{snapshotId}/dump")));
        var metrics = await _collector.Query.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsText.Value(metrics, "obs_collector_dump_uploads_total{outcome=\"exists\"}"));
        Assert.Equal(dump.Length, MetricsText.Value(metrics, "obs_collector_dump_bytes_total"));
    }

    [Fact]
    public async Task Two_uploads_of_one_id_at_once_store_one_of_them_whole_and_refuse_the_other()
    {
        var dumpId = Guid.NewGuid().ToString("N");
        byte[][] bodies = [RandomNumberGenerator.GetBytes(4 * MiB), RandomNumberGenerator.GetBytes(4 * MiB)];
        var answers = await Task.WhenAll(bodies.Select(b => PutAsync(_collector.Ingest, dumpId, b, chunked: true)));
        try
        {
            Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
            var stored = bodies[Array.FindIndex(answers, a => a.StatusCode == HttpStatusCode.Created)];
            var chunks = await Sql.ScalarAsync<byte[]>(database.ConnectionString, "SELECT string_agg(data, ''::bytea ORDER BY seq) FROM dump_chunks WHERE dump_id = $1", dumpId);
            Assert.Equal(SHA256.HashData(stored), SHA256.HashData(chunks));
        }
        finally
        {
            Array.ForEach(answers, a => a.Dispose());
        }
    }

    [Fact]
    public async Task Uploads_without_the_write_key_over_the_limit_or_malformed_are_refused_counted_and_leave_nothing()
    {
        var dumpId = Guid.NewGuid().ToString("N");
        using var readKey = CollectorRunner.Client(_collector.OtlpHttpPort, CollectorRunner.ReadKey);
        using var noKey = CollectorRunner.Client(_collector.OtlpHttpPort, null);
        // Small, so that a refusal before the body is read cannot race the client's sending.
        var small = RandomNumberGenerator.GetBytes(1024);

        using (var forbidden = await PutAsync(readKey, dumpId, small))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Contains("write key", (await forbidden.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        using (var unauthorized = await PutAsync(noKey, dumpId, small))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        }

        // Over the limit with a Content-Length (refused before reading), and chunked (refused once the limit is passed).
        using (var declared = await PutAsync(_collector.Ingest, dumpId, RandomNumberGenerator.GetBytes((int)Limit + 1)))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
            Assert.Contains($"larger than {Limit} bytes", (await declared.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        using (var chunked = await PutAsync(_collector.Ingest, dumpId, RandomNumberGenerator.GetBytes((int)Limit + (2 * MiB)), chunked: true))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        }

        using (var badId = await PutAsync(_collector.Ingest, "not.an.id", small))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        }

        using (var text = new HttpRequestMessage(HttpMethod.Put, $"/v1/dumps/{dumpId}") { Content = new StringContent("not a dump") })
        using (var wrongType = await _collector.Ingest.SendAsync(text))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        }

        Assert.Equal(0, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM dumps WHERE dump_id = $1", dumpId));
        Assert.Equal(0, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM dump_chunks WHERE dump_id = $1", dumpId));
        var metrics = await _collector.Query.GetStringAsync("/metrics");
        Assert.Equal(2, MetricsText.Value(metrics, "obs_collector_dump_uploads_total{outcome=\"too_large\"}"));
        Assert.Equal(1, MetricsText.Value(metrics, "obs_collector_dump_uploads_total{outcome=\"bad_id\"}"));
        Assert.Equal(1, MetricsText.Value(metrics, "obs_collector_dump_uploads_total{outcome=\"unsupported_media_type\"}"));
        Assert.True(MetricsText.Value(metrics, "obs_collector_requests_rejected_total{reason=\"forbidden\"}") >= 1);
        Assert.True(MetricsText.Value(metrics, "obs_collector_requests_rejected_total{reason=\"unauthorized\"}") >= 1);
    }

    [Fact]
    public async Task Retention_deletes_the_dumps_received_before_the_oldest_day_kept_and_only_those()
    {
        var old = Guid.NewGuid().ToString("N");
        var recent = Guid.NewGuid().ToString("N");
        foreach (var id in new[] { old, recent })
        {
            using var put = await PutAsync(_collector.Ingest, id, RandomNumberGenerator.GetBytes((2 * MiB) + 1));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var oldSnapshot = await SnapshotWithDumpAsync("retention-fn", old, "/tmp/old.dmp", (2 * MiB) + 1);
        // As if received nine days ago; the collector keeps seven.
        await Sql.ScalarAsync<int>(database.ConnectionString, "UPDATE dumps SET received = now() - interval '9 days' WHERE dump_id = $1 RETURNING 1", old);

        await _collector.Services.GetServices<IHostedService>().OfType<RetentionService>().Single().RunOnceAsync(CancellationToken.None);

        Assert.Equal(0, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM dump_chunks WHERE dump_id = $1", old));
        Assert.Equal(3, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM dump_chunks WHERE dump_id = $1", recent));
        var snapshot = await _collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/snapshots/{oldSnapshot}");
        Assert.False(snapshot.GetProperty("dump").GetProperty("downloadable").GetBoolean());
        using var gone = await _collector.Query.GetAsync($"/api/v1/snapshots/{oldSnapshot}/dump");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient client, string dumpId, byte[] dump, bool chunked = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/v1/dumps/{dumpId}")
        {
            Content = chunked ? new StreamContent(new MemoryStream(dump)) : new ByteArrayContent(dump),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.TransferEncodingChunked = chunked;
        return await client.SendAsync(request);
    }

    /// <summary>Stores a failure snapshot whose dump object names <paramref name="dumpId"/>, as a sidecar sends it; returns the snapshot's id.</summary>
    private async Task<string> SnapshotWithDumpAsync(string function, string dumpId, string path, long bytes)
    {
        var snapshot = new Snapshot(function, "1", DateTime.UtcNow.AddMinutes(-1), "status_5xx", 500, "/fail", "System.InvalidOperationException", "at Program.Fail()",
            new JsonObject { ["id"] = dumpId, ["kind"] = "Triage", ["path"] = path, ["bytes"] = bytes });
        using var response = await _collector.Ingest.PostAsync("/v1/logs", Protobuf(Export(snapshot)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Sql.ScalarAsync<string>(database.ConnectionString, "SELECT encode(log_id, 'hex') FROM logs WHERE trace_id = $1", snapshot.TraceId.ToByteArray());
    }
}
