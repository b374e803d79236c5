using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Observability.Testing;
using static Observability.Testing.SnapshotSeed;

namespace Observability.Cli.Tests.Analysis;

/// <summary>obs failures show ID --dump FILE, run as a real process against a collector holding an uploaded dump.</summary>
public sealed class FailureDumpCommandTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("obs-cli-dump-").FullName;
    private CollectorRunner _collector = null!;

    private string[] Connection => ["--collector", _collector.ApiEndpoint.ToString(), "--read-key", CollectorRunner.ReadKey];

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync()
    {
        await _collector.DisposeAsync();
        Directory.Delete(_scratch, recursive: true);
    }

    [Fact]
    public async Task Failures_show_with_dump_saves_the_snapshots_dump_byte_for_byte()
    {
        var dump = RandomNumberGenerator.GetBytes((3 * 1024 * 1024) + 7);
        var dumpId = Guid.NewGuid().ToString("N");
        var snapshotId = await SeedAsync("cli-dump-fn", new JsonObject { ["id"] = dumpId, ["kind"] = "Triage", ["path"] = "/var/tmp/dump-1.dmp", ["bytes"] = dump.Length });
        using (var content = new ByteArrayContent(dump))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var put = await _collector.Ingest.PutAsync($"/v1/dumps/{dumpId}", content);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var file = Path.Combine(_scratch, "saved.dmp");

        var result = await ObsCli.RunAsync(["failures", "show", snapshotId, "--dump", file, .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(dump, await File.ReadAllBytesAsync(file));
        Assert.False(File.Exists(file + ".part"));
        Assert.Contains($"to {file} ({dump.Length:#,0} bytes)", result.Stdout, StringComparison.Ordinal);
        // The snapshot is printed as without --dump.
        Assert.Contains("System.InvalidOperationException", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failures_show_with_dump_says_why_when_there_is_no_dump_to_save()
    {
        var without = await SeedAsync("cli-nodump-fn", null);
        var notUploaded = await SeedAsync("cli-notyet-fn", new JsonObject { ["id"] = Guid.NewGuid().ToString("N"), ["kind"] = "Triage", ["path"] = "/var/tmp/obs/dump-77.dmp", ["bytes"] = 5000 });
        var file = Path.Combine(_scratch, "never.dmp");

        var none = await ObsCli.RunAsync(["failures", "show", without, "--dump", file, .. Connection]);
        var pending = await ObsCli.RunAsync(["failures", "show", notUploaded, "--dump", file, .. Connection]);
        var group = await ObsCli.RunAsync(["failures", "show", "0123456789abcdef", "--dump", file, .. Connection]);

        Assert.True(none.ExitCode == 1, none.ToString());
        Assert.Contains($"snapshot {without} has no dump", none.Stderr, StringComparison.Ordinal);
        Assert.True(pending.ExitCode == 1, pending.ToString());
        Assert.Contains("/var/tmp/obs/dump-77.dmp", pending.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not hold the dump", pending.Stderr, StringComparison.Ordinal);
        Assert.True(group.ExitCode == 2, group.ToString());
        Assert.Contains("--dump needs a snapshot id", group.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
    }

    /// <summary>Stores a failure snapshot as a sidecar sends it; returns the id the API knows it by.</summary>
    private async Task<string> SeedAsync(string function, JsonObject? dump)
    {
        var snapshot = new Snapshot(function, "1", DateTime.UtcNow.AddMinutes(-2), "status_5xx", 500, "/fail", "System.InvalidOperationException", "at Program.Fail()", dump);
        using var response = await _collector.Ingest.PostAsync("/v1/logs", OtlpFactory.Protobuf(Export(snapshot)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Sql.ScalarAsync<string>(database.ConnectionString, "SELECT encode(log_id, 'hex') FROM logs WHERE trace_id = $1", snapshot.TraceId.ToByteArray());
    }
}
