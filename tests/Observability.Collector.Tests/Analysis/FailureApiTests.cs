using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Observability.Testing;
using static Observability.Collector.Tests.Analysis.FunctionsApiTests;
using static Observability.Testing.OtlpFactory;
using static Observability.Testing.SnapshotSeed;

namespace Observability.Collector.Tests.Analysis;

/// <summary>GET /api/v1/failures, /failures/{fingerprint}, /snapshots/{id} and its dump, over seeded snapshots.</summary>
public sealed class FailureApiTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task Snapshots_group_by_exception_and_frames_or_by_trigger_status_and_route_with_counts_times_versions_and_latest()
    {
        var t0 = Minute(DateTime.UtcNow.AddHours(-3));
        const string Npe = "System.NullReferenceException";
        var dump = new JsonObject { ["kind"] = "Mini", ["path"] = "/var/tmp/obs-dumps/fl-fn-2.dmp", ["bytes"] = 123456 };
        var nullRef = new[]
        {
            new Snapshot("fl-fn", "1", t0.AddMinutes(1), "status_5xx", 500, "/orders/1", Npe, FailureFingerprintTests.StackV1),
            new Snapshot("fl-fn", "2", t0.AddMinutes(5), "status_5xx", 500, "/orders/2", Npe, FailureFingerprintTests.StackV2),
            new Snapshot("fl-fn", "2", t0.AddMinutes(9), "status_5xx", 500, "/orders/3", Npe, FailureFingerprintTests.StackV2, dump),
        };
        var invalid = new Snapshot("fl-fn", "2", t0.AddMinutes(3), "status_5xx", 500, "/orders/4", "System.InvalidOperationException", FailureFingerprintTests.StackV1);
        // No exception: one whose invocation span is stored (route from it), one without (route from the URL, ids replaced).
        var unavailable = new[]
        {
            new Snapshot("fl-fn", "1", t0.AddMinutes(2), "status_5xx", 503, "/orders/by-name"), // only its span says the route is /orders/{id}
            new Snapshot("fl-fn", "2", t0.AddMinutes(7), "status_5xx", 503, "/orders/456?verbose=1"),
        };
        var timeout = new Snapshot("fl-fn", "2", t0.AddMinutes(8), "timeout", 504, "/orders/7");
        var otherFunction = new Snapshot("fl-other", "1", t0.AddMinutes(4), "status_5xx", 500, "/x", Npe, FailureFingerprintTests.StackV1);
        var outside = new Snapshot("fl-fn", "1", t0.AddHours(-2), "status_5xx", 500, "/orders/1", Npe, FailureFingerprintTests.StackV1);
        await IngestAsync("/v1/logs", Export([.. nullRef, invalid, .. unavailable, timeout, otherFunction, outside]));
        var span = AnalysisSeed.Invocation(unavailable[0].Time, 30, error: true, route: "/orders/{id}");
        span.TraceId = unavailable[0].TraceId;
        span.SpanId = unavailable[0].SpanId;
        await IngestAsync("/v1/traces", AnalysisSeed.Export("fl-fn", "1", span));

        var range = $"start={Iso(t0)}&end={Iso(t0.AddHours(1))}";
        var page = await GetAsync($"/api/v1/failures?function=fl-fn&{range}");
        var groups = page.GetProperty("items").EnumerateArray().ToList();

        // Four groups, the most recently seen first.
        var expected = new[] { nullRef, [timeout], unavailable, new[] { invalid } };
        Assert.Equal(expected.Length, groups.Count);
        Assert.Equal(7, page.GetProperty("scanned").GetInt32());
        Assert.False(page.GetProperty("truncated").GetBoolean());
        for (var i = 0; i < expected.Length; i++)
        {
            var members = expected[i];
            var latest = members.MaxBy(m => m.Time)!;
            var group = groups[i];
            Assert.Equal(members.Length, group.GetProperty("count").GetInt64());
            Assert.Equal(members.Min(m => m.Time), group.GetProperty("firstSeen").GetDateTime().ToUniversalTime());
            Assert.Equal(latest.Time, group.GetProperty("lastSeen").GetDateTime().ToUniversalTime());
            Assert.Equal(members.Select(m => m.Version).Distinct().Order().ToArray(), group.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray());
            Assert.Equal(await IdOfAsync(latest), group.GetProperty("latestSnapshotId").GetString());
            Assert.Equal(latest.TraceHex, group.GetProperty("sampleTraceId").GetString());
        }

        var npe = groups[0].GetProperty("signature");
        Assert.Equal((Npe, "fl-fn"), (npe.GetProperty("exceptionType").GetString(), npe.GetProperty("function").GetString()));
        Assert.Equal(FailureFingerprintTests.ExpectedFrames, npe.GetProperty("frames").EnumerateArray().Select(f => f.GetString()!).ToArray());
        var status = groups[2].GetProperty("signature");
        Assert.Equal(("status_5xx", 503, "/orders/{id}"), (status.GetProperty("trigger").GetString(), status.GetProperty("statusCode").GetInt32(), status.GetProperty("route").GetString()));
        Assert.Equal(("timeout", 504), (groups[1].GetProperty("signature").GetProperty("trigger").GetString(), groups[1].GetProperty("signature").GetProperty("statusCode").GetInt32()));

        // Without the function filter the other function's same exception is a group of its own.
        var everything = (await GetAsync($"/api/v1/failures?{range}")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(expected.Length + 1, everything.Count);
        Assert.Single(everything, g => g.GetProperty("signature").GetProperty("function").GetString() == "fl-other");

        // Pages of groups.
        var first = await GetAsync($"/api/v1/failures?function=fl-fn&{range}&limit=3");
        var rest = await GetAsync($"/api/v1/failures?function=fl-fn&{range}&limit=3&cursor={Uri.EscapeDataString(first.GetProperty("next").GetString()!)}");
        Assert.Equal(
            groups.Select(g => g.GetProperty("fingerprint").GetString()),
            first.GetProperty("items").EnumerateArray().Concat(rest.GetProperty("items").EnumerateArray()).Select(g => g.GetProperty("fingerprint").GetString()));
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);

        // A group's snapshots, newest first, in pages.
        var fingerprint = groups[0].GetProperty("fingerprint").GetString()!;
        var detail = await GetAsync($"/api/v1/failures/{fingerprint}?{range}&limit=2");
        Assert.Equal(3, detail.GetProperty("group").GetProperty("count").GetInt64());
        var more = await GetAsync($"/api/v1/failures/{fingerprint}?{range}&limit=2&cursor={Uri.EscapeDataString(detail.GetProperty("next").GetString()!)}");
        var times = detail.GetProperty("items").EnumerateArray().Concat(more.GetProperty("items").EnumerateArray()).Select(s => s.GetProperty("time").GetDateTime().ToUniversalTime());
        Assert.Equal(nullRef.Select(s => s.Time).OrderDescending(), times);
    }

    [Fact]
    public async Task A_snapshot_shows_every_part_and_its_trace_and_its_dump_is_said_to_stay_on_the_sidecars_host()
    {
        var t0 = Minute(DateTime.UtcNow.AddMinutes(-30));
        var withDump = new Snapshot("fl-detail", "4", t0, "status_5xx", 500, "/pay", "System.TimeoutException", FailureFingerprintTests.StackV1,
            new JsonObject { ["kind"] = "Mini", ["path"] = "/var/tmp/obs-dumps/pay.dmp", ["bytes"] = 2048 });
        var without = new Snapshot("fl-detail", "4", t0.AddMinutes(1), "timeout", 504, "/pay");
        await IngestAsync("/v1/logs", Export(withDump, without));
        var id = await IdOfAsync(withDump);

        var snapshot = await GetAsync($"/api/v1/snapshots/{id}");

        var summary = snapshot.GetProperty("summary");
        Assert.Equal((id, withDump.TraceHex, "fl-detail", "4", "System.TimeoutException", 500), (
            summary.GetProperty("id").GetString(), summary.GetProperty("traceId").GetString(), summary.GetProperty("function").GetString(),
            summary.GetProperty("version").GetString(), summary.GetProperty("exceptionType").GetString(), summary.GetProperty("statusCode").GetInt32()));
        Assert.Equal($"/api/v1/traces/{withDump.TraceHex}", snapshot.GetProperty("traceLink").GetString());
        Assert.Equal($"/ui/traces/{withDump.TraceHex}", snapshot.GetProperty("uiTraceLink").GetString());
        var body = snapshot.GetProperty("snapshot");
        foreach (var part in new[] { "request", "response", "exceptions", "logs", "process", "environment", "dump" })
        {
            Assert.True(body.TryGetProperty(part, out _), $"the snapshot lost its {part}");
        }

        Assert.Equal("GET", body.GetProperty("request").GetProperty("method").GetString());
        Assert.Equal(("/var/tmp/obs-dumps/pay.dmp", 2048L, false), (snapshot.GetProperty("dump").GetProperty("path").GetString(), snapshot.GetProperty("dump").GetProperty("bytes").GetInt64(), snapshot.GetProperty("dump").GetProperty("downloadable").GetBoolean()));

        using var dumpResponse = await _collector.Query.GetAsync($"/api/v1/snapshots/{id}/dump");
        Assert.Equal(HttpStatusCode.NotFound, dumpResponse.StatusCode);
        var dumpAnswer = await dumpResponse.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("/var/tmp/obs-dumps/pay.dmp", dumpAnswer.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("fl-detail-4", dumpAnswer.GetProperty("dump").GetProperty("instance").GetString());

        using var noDump = await _collector.Query.GetAsync($"/api/v1/snapshots/{await IdOfAsync(without)}/dump");
        Assert.Equal(HttpStatusCode.NotFound, noDump.StatusCode);
        Assert.Contains("has no dump", (await noDump.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);

        foreach (var (url, code) in new[]
        {
            ("/api/v1/snapshots/not-an-id", HttpStatusCode.BadRequest),
            ($"/api/v1/snapshots/{new string('a', 32)}", HttpStatusCode.NotFound),
            ("/api/v1/failures/XYZ", HttpStatusCode.BadRequest),
            ($"/api/v1/failures/{new string('0', 16)}", HttpStatusCode.NotFound),
            ("/api/v1/failures?cursor=zz", HttpStatusCode.BadRequest),
        })
        {
            using var response = await _collector.Query.GetAsync(url);
            Assert.True(response.StatusCode == code, $"{url}: {response.StatusCode}");
            Assert.False(string.IsNullOrEmpty((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()));
        }
    }

    private async Task<string> IdOfAsync(Snapshot snapshot) =>
        await Sql.ScalarAsync<string>(database.ConnectionString, "SELECT encode(log_id, 'hex') FROM logs WHERE trace_id = $1", snapshot.TraceId.ToByteArray());

    private async Task IngestAsync(string path, Google.Protobuf.IMessage request)
    {
        using var response = await _collector.Ingest.PostAsync(path, Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<JsonElement> GetAsync(string url) => await _collector.Query.GetFromJsonAsync<JsonElement>(url);
}
