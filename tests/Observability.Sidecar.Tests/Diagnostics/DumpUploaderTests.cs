using System.Security.Cryptography;
using Observability.Sidecar.Diagnostics.Dumps;
using Observability.Sidecar.Telemetry;
using Observability.Testing;
using Prometheus;
using Xunit.Abstractions;

namespace Observability.Sidecar.Tests.Diagnostics;

/// <summary>The sidecar's dump upload against a real collector: what each answer means for the file on the function's host.</summary>
public sealed class DumpUploaderTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private readonly string _dumps = Directory.CreateTempSubdirectory("obs-uploader-").FullName;
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync()
    {
        await _collector.DisposeAsync();
        Directory.Delete(_dumps, recursive: true);
    }

    [Fact]
    public async Task A_dump_the_collector_already_holds_counts_as_stored_and_its_file_goes_while_the_stored_bytes_stay()
    {
        // An earlier attempt was committed and its 201 lost: the collector holds this id already.
        var (id, path, bytes) = await DumpFileAsync();
        using (var first = new ByteArrayContent(bytes))
        {
            first.Headers.ContentType = new("application/octet-stream");
            using var put = await _collector.Ingest.PutAsync($"/v1/dumps/{id}", first);
            Assert.Equal(System.Net.HttpStatusCode.Created, put.StatusCode);
        }

        await using var uploader = Uploader();
        Assert.Equal("already_stored", await uploader.UploadAsync(id, path));
        Assert.False(File.Exists(path));

        // A fresh id is uploaded, and the other one's bytes are still the first upload's.
        var (fresh, freshPath, _) = await DumpFileAsync();
        Assert.Equal("uploaded", await uploader.UploadAsync(fresh, freshPath));
        var stored = await Sql.ScalarAsync<byte[]>(database.ConnectionString, "SELECT string_agg(data, ''::bytea ORDER BY seq) FROM dump_chunks WHERE dump_id = $1", id);
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(stored));
    }

    [Fact]
    public async Task A_dump_whose_upload_a_stop_cut_off_is_sent_by_the_next_run_under_the_id_its_snapshot_names()
    {
        var (id, path, bytes) = await DumpFileAsync();
        // The first run has no collector to reach, and stops while it waits to retry.
        var nobody = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        nobody.Start();
        var closedPort = ((System.Net.IPEndPoint)nobody.LocalEndpoint).Port;
        nobody.Stop();
        await using (var first = Uploader(new Uri($"http://127.0.0.1:{closedPort}/")))
        {
            Assert.True(first.Enqueue(id, path));
        }

        Assert.True(File.Exists(path));
        var metrics = new SidecarMetrics(Metrics.NewCustomRegistry());
        await using var next = Uploader(metrics: metrics);
        await Poll.UntilAsync(() => Task.FromResult(File.Exists(path)), exists => !exists, TimeSpan.FromSeconds(60), "the next run to upload the dump and delete it");
        var stored = await Sql.ScalarAsync<byte[]>(database.ConnectionString, "SELECT string_agg(data, ''::bytea ORDER BY seq) FROM dump_chunks WHERE dump_id = $1", id);
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(stored));
        Assert.Empty(Directory.GetFiles(_dumps, "*.upload"));
        Assert.Equal(1, metrics.DumpUploads.WithLabels("uploaded").Value);
    }

    private DumpUploader Uploader(Uri? endpoint = null, SidecarMetrics? metrics = null) => new(
        endpoint ?? _collector.OtlpHttpEndpoint,
        _dumps,
        [new("Authorization", "Bearer " + CollectorRunner.WriteKey)],
        certificateFile: null,
        TimeSpan.FromSeconds(30),
        deleteUploaded: true,
        metrics ?? new SidecarMetrics(Metrics.NewCustomRegistry()),
        TimeProvider.System,
        new TestOutputLogger(output));

    private async Task<(string Id, string Path, byte[] Bytes)> DumpFileAsync()
    {
        var id = DumpUploader.NewId();
        var path = Path.Combine(_dumps, $"dump-{id}.dmp");
        var bytes = RandomNumberGenerator.GetBytes(256 * 1024);
        await File.WriteAllBytesAsync(path, bytes);
        return (id, path, bytes);
    }
}
