using System.Diagnostics;
using System.Net;
using Observability.Hosting;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Sidecar.Tests;

/// <summary>A sidecar killed while the collector is away: its next run delivers what the first one spooled.</summary>
public sealed class SpoolRestartTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const string Function = "respooled";

    [Fact]
    public async Task Spans_and_a_snapshot_spooled_before_a_SIGKILL_arrive_exactly_once_after_the_restart()
    {
        var (grpc, otlp, http) = (LocalPostgres.FreePort(), LocalPostgres.FreePort(), LocalPostgres.FreePort());
        var (port, upstream) = (LocalPostgres.FreePort(), LocalPostgres.FreePort());
        // The same settings for both runs; the default spool folder, which the second run must find by itself.
        string[] settings = [$"OtlpEndpoint=http://127.0.0.1:{otlp}/", $"UpstreamPort={upstream}"];
        var spool = Path.Combine(Path.GetTempPath(), "obs-sidecar-spool", $"{Function}-{Environment.MachineName}-{port}");
        var traceIds = new List<string>();

        var first = await SidecarRunner.StartOnPortAsync(Function, port, settings);
        try
        {
            for (var i = 0; i < 8; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await SendAsync(first, HttpMethod.Get, "/hello", traceIds)).StatusCode);
            }

            Assert.Equal(HttpStatusCode.InternalServerError, (await SendAsync(first, HttpMethod.Post, "/echo?status=500", traceIds)).StatusCode);

            // Everything is on disk: the nine invocations, the cold-start record, and the snapshot.
            await Poll.UntilAsync(() => Task.FromResult(SpooledSpans(spool)), s => traceIds.All(s.TraceIds.Contains) && s.Spans.Count >= traceIds.Count + 3, TimeSpan.FromSeconds(60), "spans spooled to disk");
            await Poll.UntilAsync(() => Task.FromResult(Directory.EnumerateFiles(Path.Combine(spool, "snapshots"), "*.pb").Count()), n => n == 1, TimeSpan.FromSeconds(60), "the snapshot spooled to disk");
        }
        finally
        {
            await first.KillAsync();
            await first.DisposeAsync();
        }

        var spooled = SpooledSpans(spool).Spans;
        await using var second = await SidecarRunner.StartOnPortAsync(Function, port, settings);
        var collector = await CollectorRunner.StartAsync(database.ConnectionString, o => (o.OtlpGrpcPort, o.OtlpHttpPort, o.HttpPort) = (grpc, otlp, http));
        try
        {
            // The restarted sidecar's own spool replay backs off while the collector is away: seconds, not the
            // exporter's minute (its disk retry first looks 60 s after the start).
            await Poll.UntilAsync(() => StoredAsync(spooled), n => n == spooled.Count, TimeSpan.FromSeconds(30), "spooled spans stored");
            Assert.True(MetricsText.Value(await second.Admin.GetStringAsync("/metrics"), "obs_sidecar_spool_replayed_batches_total{result=\"delivered\"}") >= 1);
            await Poll.UntilAsync(() => Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM logs WHERE function_name = $1", Function), n => n >= 1, TimeSpan.FromSeconds(60), "the snapshot stored");

            // Exactly once: one row per span, one snapshot, and every invocation the first run answered.
            Assert.Equal(spooled.Count, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM spans WHERE service_name = $1", Function));
            Assert.Equal(spooled.Count, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(DISTINCT (trace_id, span_id)) FROM spans WHERE service_name = $1", Function));
            Assert.Equal(traceIds.Count, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(DISTINCT trace_id) FROM spans WHERE encode(trace_id, 'hex') = ANY($1)", (object)traceIds.ToArray()));
            Assert.Equal(1, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM logs WHERE function_name = $1", Function));
            await Poll.UntilAsync(() => Task.FromResult(Directory.EnumerateFiles(spool, "*", SearchOption.AllDirectories).Count()), n => n == 0, TimeSpan.FromSeconds(30), "the spool emptied");
        }
        finally
        {
            await collector.DisposeAsync();
        }
    }

    /// <summary>A request with a trace id of the test's choosing, so its span can be found in the database.</summary>
    private static async Task<HttpResponseMessage> SendAsync(SidecarRunner sidecar, HttpMethod method, string path, List<string> traceIds)
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        traceIds.Add(traceId);
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        return await sidecar.Client.SendAsync(request);
    }

    /// <summary>The spans in the exporter's spool (batches, and batches leased for a retry), by span id.</summary>
    private static (HashSet<string> TraceIds, HashSet<string> Spans) SpooledSpans(string spool)
    {
        var (traces, spans) = (new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal));
        var folder = Path.Combine(spool, "traces");
        foreach (var file in Directory.Exists(folder) ? Directory.EnumerateFiles(folder).Where(f => f.EndsWith(".blob", StringComparison.Ordinal) || f.EndsWith(".lock", StringComparison.Ordinal)) : [])
        {
            try
            {
                foreach (var span in ExportTraceServiceRequest.Parser.ParseFrom(File.ReadAllBytes(file)).ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans))
                {
                    traces.Add(Convert.ToHexStringLower(span.TraceId.Span));
                    spans.Add(Convert.ToHexStringLower(span.SpanId.Span));
                }
            }
            catch (IOException)
            {
                // Leased or sent in between: read again at the next poll.
            }
        }

        return (traces, spans);
    }

    private Task<long> StoredAsync(HashSet<string> spanIds) =>
        Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(DISTINCT span_id) FROM spans WHERE encode(span_id, 'hex') = ANY($1)", (object)spanIds.ToArray());
}
