using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Observability.Hosting;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>The collector goes away under traffic and comes back: no request fails, and no span is lost.</summary>
public sealed class CollectorOutageTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Spans_made_while_the_collector_is_down_arrive_once_it_is_back()
    {
        // Fixed ports, so that the collector comes back where the sidecar exports.
        var (grpc, otlp, http) = (LocalPostgres.FreePort(), LocalPostgres.FreePort(), LocalPostgres.FreePort());
        void Ports(Collector.Configuration.CollectorOptions o) => (o.OtlpGrpcPort, o.OtlpHttpPort, o.HttpPort) = (grpc, otlp, http);
        var collector = await CollectorRunner.StartAsync(database.ConnectionString, Ports);
        await using var sidecar = await SidecarRunner.StartAsync("outage-fn", collector);
        try
        {
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
            }

            await Poll.UntilAsync(() => CountAsync(collector), n => n == 5, what: "spans before the outage");
            await collector.DisposeAsync();

            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
            }

            // Let the sidecar try (and fail) to export while the collector is away, so the spans go to its spool.
            await Poll.UntilAsync(() => Task.FromResult(SpooledBlobs("outage-fn")), n => n > 0, TimeSpan.FromSeconds(30), "spans spooled to disk");
            collector = await CollectorRunner.StartAsync(database.ConnectionString, Ports);

            // The sidecar replays its spool within seconds of the collector's return (SpanSpoolReplay backs off to 30 s at most).
            await Poll.UntilAsync(() => CountAsync(collector), n => n >= 15, TimeSpan.FromSeconds(60), "spooled spans delivered");
            Assert.Equal(15, await CountAsync(collector));
        }
        finally
        {
            await collector.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_dump_written_while_the_collector_is_down_is_uploaded_on_a_retry_once_it_is_back()
    {
        var (grpc, otlp, http) = (LocalPostgres.FreePort(), LocalPostgres.FreePort(), LocalPostgres.FreePort());
        void Ports(Collector.Configuration.CollectorOptions o) => (o.OtlpGrpcPort, o.OtlpHttpPort, o.HttpPort) = (grpc, otlp, http);
        var dumps = Directory.CreateTempSubdirectory("obs-outage-dumps-").FullName;
        var collector = await CollectorRunner.StartAsync(database.ConnectionString, Ports);
        await using var sidecar = await SidecarRunner.StartAsync("outage-dump-fn", collector, "DumpOnFailure=Triage", $"DumpDirectory={dumps}");
        try
        {
            await collector.DisposeAsync();
            var failed = DateTime.UtcNow;
            Assert.Equal(HttpStatusCode.InternalServerError, (await sidecar.Client.GetAsync("/throw")).StatusCode);

            // The snapshot is spooled after its dump was written and queued: by then the first upload attempt met no collector.
            // (Only this run's: an earlier run may have left one in a spool of the same name.)
            await Poll.UntilAsync(() => Task.FromResult(Spooled("outage-dump-fn", "*.pb", failed)), n => n > 0, TimeSpan.FromSeconds(60), "the snapshot spooled");
            Assert.Single(Directory.GetFiles(dumps, "*.dmp"));
            Assert.Single(Directory.GetFiles(dumps, "*.dmp.upload")); // pending: a restart now would take it up
            collector = await CollectorRunner.StartAsync(database.ConnectionString, Ports);

            var metrics = await Poll.UntilAsync(
                () => sidecar.Admin.GetStringAsync("/metrics"),
                m => MetricsText.Value(m, "obs_sidecar_dump_uploads_total{outcome=\"uploaded\"}") + MetricsText.Value(m, "obs_sidecar_dump_uploads_total{outcome=\"gave_up\"}") >= 1,
                TimeSpan.FromSeconds(60),
                "the dump's upload to end");
            Assert.Equal(1, MetricsText.Value(metrics, "obs_sidecar_dump_uploads_total{outcome=\"uploaded\"}"));
            Assert.Equal(1, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM dumps"));
            await Poll.UntilAsync(() => Task.FromResult(Directory.GetFiles(dumps).Length), n => n == 0, what: "the uploaded dump's deletion");
        }
        finally
        {
            await collector.DisposeAsync();
            Directory.Delete(dumps, recursive: true);
        }
    }

    private static int Spooled(string function, string pattern, DateTime since)
    {
        var spool = Path.Combine(Path.GetTempPath(), "obs-sidecar-spool");
        return Directory.Exists(spool)
            ? Directory.EnumerateFiles(spool, pattern, SearchOption.AllDirectories)
                .Count(f => f.Contains(function, StringComparison.Ordinal) && File.GetLastWriteTimeUtc(f) >= since.AddSeconds(-1))
            : 0;
    }

    private static int SpooledBlobs(string function)
    {
        var spool = Path.Combine(Path.GetTempPath(), "obs-sidecar-spool");
        return Directory.Exists(spool)
            ? Directory.EnumerateFiles(spool, "*.blob", SearchOption.AllDirectories).Count(f => f.Contains(function, StringComparison.Ordinal))
            : 0;
    }

    private static async Task<int> CountAsync(CollectorRunner collector)
    {
        var traces = await collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/traces?service=outage-fn&name=GET%20/hello&limit=100");
        return traces.GetProperty("items").GetArrayLength();
    }
}
