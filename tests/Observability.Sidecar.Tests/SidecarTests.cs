using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>The sidecar supervising the real sample function, exporting to a real collector.</summary>
public sealed class SidecarTests(PostgresDatabase database, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private readonly string _dumps = Directory.CreateTempSubdirectory("obs-sidecar-dumps-").FullName;
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync()
    {
        await _collector.DisposeAsync();
        Directory.Delete(_dumps, recursive: true);
    }

    [Fact]
    public async Task A_slow_init_is_one_cold_start_with_its_phases_and_later_invocations_are_warm()
    {
        await using var sidecar = await SidecarRunner.StartAsync("cold-fn", _collector, "FunctionEnvironment:INIT_DELAY_MS=300");

        for (var i = 0; i < 3; i++)
        {
            using var response = await sidecar.Client.GetAsync("/hello?name=x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("hello, x from cold-fn", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var invocations = await SpansAsync("cold-fn", "GET /hello", n => n >= 3);
        Assert.Equal([true, false, false], invocations.OrderBy(s => s.GetProperty("startTime").GetDateTime())
            .Select(s => s.GetProperty("function").GetProperty("coldStart").GetBoolean()).ToArray());

        var coldStart = Assert.Single(await SpansAsync("cold-fn", "faas.coldstart", n => n >= 1));
        var trace = await _collector.TraceAsync(coldStart.GetProperty("traceId").GetString()!);
        var phases = trace.GetProperty("spans").EnumerateArray().Where(s => s.GetProperty("depth").GetInt32() == 1)
            .ToDictionary(s => s.GetProperty("attributes").GetProperty("obs.coldstart.phase").GetString()!, s => s.GetProperty("durationNanos").GetInt64() / 1e6);
        Assert.True(phases["init"] >= 300, $"init took {phases["init"]} ms, but the function sleeps 300 ms before listening");
        // The truth: from the kernel's process start to the moment the function itself says it listens.
        var processStart = coldStart.GetProperty("attributes").GetProperty("obs.coldstart.process_start").GetDateTime().ToUniversalTime();
        var listeningLine = sidecar.Output.Split('\n').First(l => l.StartsWith("cold-fn: listening at ", StringComparison.Ordinal));
        var listening = DateTime.Parse(listeningLine["cold-fn: listening at ".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind);
        var truth = (listening - processStart).TotalMilliseconds;
        output.WriteLine($"init: measured {phases["init"]:F1} ms, the function says {truth:F1} ms");
        // Never late by more than 50 ms. It may be earlier than the function's own account: that timestamp is taken
        // in ApplicationStarted, after Kestrel has bound the port, and on a loaded 2-core machine it lagged the bind by 68 ms.
        Assert.True(phases["init"] <= truth + 50 && phases["init"] >= truth - 150, $"init measured {phases["init"]:F1} ms, the function says {truth:F1} ms");
        Assert.True(phases.ContainsKey("first_request"));
        // The .NET startup profile and the runtime's own phase, read through the diagnostics port.
        var attributes = coldStart.GetProperty("attributes");
        Assert.True(attributes.GetProperty("obs.startup.assemblies_loaded").GetInt32() > 10);
        Assert.True(attributes.GetProperty("obs.startup.jit_methods").GetInt32() > 100);
        Assert.True(attributes.GetProperty("obs.startup.jit_ms").GetDouble() > 0);
        Assert.NotEmpty(attributes.GetProperty("obs.startup.top_assemblies").EnumerateArray());
        Assert.Contains(attributes.GetProperty("obs.startup.top_methods").EnumerateArray(), m => m.GetString()!.EndsWith(" ms", StringComparison.Ordinal));
        var initChildren = trace.GetProperty("spans").EnumerateArray().Where(s => s.GetProperty("depth").GetInt32() == 2)
            .Select(s => s.GetProperty("attributes").GetProperty("obs.coldstart.phase").GetString()).ToList();
        Assert.Equal(["runtime_start", "app_init"], initChildren);
        output.WriteLine($"startup: {attributes}");

        var link = coldStart.GetProperty("links")[0];
        var first = invocations.Single(s => s.GetProperty("function").GetProperty("coldStart").GetBoolean());
        Assert.Equal(first.GetProperty("spanId").GetString(), link.GetProperty("spanId").GetString());

        var metrics = await _collector.Query.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsText.Value(metrics, "faas_coldstarts_total{function=\"cold-fn\",version=\"1\",trigger=\"http\"}"));
        Assert.Equal(3, MetricsText.Value(metrics, "faas_invocations_total{function=\"cold-fn\",version=\"1\",trigger=\"http\"}"));
        Assert.Equal(1, MetricsText.Value(metrics, "faas_init_duration_seconds_count{function=\"cold-fn\",version=\"1\"}"));
    }

    [Fact]
    public async Task A_function_calling_another_through_its_sidecar_makes_one_trace()
    {
        await using var b = await SidecarRunner.StartAsync("callee", _collector);
        await using var a = await SidecarRunner.StartAsync("caller", _collector);

        using var response = await a.Client.GetAsync($"/call?url=http://127.0.0.1:{b.Port}/hello?name=a");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("hello, a from callee", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var callerSpan = Assert.Single(await SpansAsync("caller", "GET /call", n => n >= 1));
        var calleeSpan = Assert.Single(await SpansAsync("callee", "GET /hello", n => n >= 1));
        Assert.Equal(callerSpan.GetProperty("traceId").GetString(), calleeSpan.GetProperty("traceId").GetString());
        Assert.Equal(callerSpan.GetProperty("spanId").GetString(), calleeSpan.GetProperty("parentSpanId").GetString());
    }

    [Fact]
    public async Task A_caller_traceparent_is_continued_and_warm_ups_are_marked()
    {
        await using var sidecar = await SidecarRunner.StartAsync("continued", _collector, "WarmUpToken=continued-warmup-token");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hello");
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        request.Headers.Add("X-Obs-Warmup", "continued-warmup-token");
        using var response = await sidecar.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var span = Assert.Single(await SpansAsync("continued", "GET /hello", n => n >= 1));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", span.GetProperty("traceId").GetString());
        Assert.Equal("b7ad6b7169203331", span.GetProperty("parentSpanId").GetString());
        Assert.True(span.GetProperty("warmUp").GetBoolean());
    }

    [Fact]
    public async Task A_crash_is_a_failed_invocation_with_a_snapshot_and_the_function_is_restarted()
    {
        await using var sidecar = await SidecarRunner.StartAsync("crasher", _collector, "RestartBackoff=00:00:00.05");
        Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);

        using var crash = await sidecar.Client.GetAsync("/crash");
        Assert.True((int)crash.StatusCode >= 500, $"a crash answered {(int)crash.StatusCode}");

        await Poll.UntilAsync(() => sidecar.Admin.GetStringAsync("/metrics"), m => MetricsText.Value(m, "obs_sidecar_function_starts_total") >= 2, what: "a restart");
        Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsText.Value(metrics, "obs_sidecar_function_crashes_total"));
        Assert.Equal(2, MetricsText.Value(metrics, "obs_sidecar_coldstarts_total"));

        // One snapshot for the crash, on the trace of the request it cut off, with the process's last words.
        var snapshot = Assert.Single(await SnapshotsAsync("crasher", 1));
        var crashSpan = Assert.Single(await SpansAsync("crasher", "GET /crash", n => n >= 1));
        Assert.Equal("crash", snapshot.GetProperty("trigger").GetString());
        Assert.Equal(crashSpan.GetProperty("traceId").GetString(), snapshot.GetProperty("traceId").GetString());
        var body = snapshot.GetProperty("snapshot");
        Assert.Equal(3, body.GetProperty("process").GetProperty("exitCode").GetInt32());
        Assert.Contains(body.GetProperty("logs").EnumerateArray(), l => l.GetString()!.Contains("crashing on request, exit code 3", StringComparison.Ordinal));
        Assert.Equal("/crash", body.GetProperty("request").GetProperty("url").GetString());
    }

    [Fact]
    public async Task A_server_error_is_a_snapshot_with_request_response_logs_and_process_state()
    {
        await using var sidecar = await SidecarRunner.StartAsync("failing", _collector);
        using var content = new StringContent("{\"order\": 42}", System.Text.Encoding.UTF8, "application/json");
        using var response = await sidecar.Client.PostAsync("/echo?status=500", content);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("{\"order\": 42}", await response.Content.ReadAsStringAsync());

        var snapshot = Assert.Single(await SnapshotsAsync("failing", 1));
        var span = Assert.Single(await SpansAsync("failing", "POST /echo", n => n >= 1));
        Assert.Equal("status_5xx", snapshot.GetProperty("trigger").GetString());
        Assert.Equal(span.GetProperty("spanId").GetString(), snapshot.GetProperty("spanId").GetString());
        var body = snapshot.GetProperty("snapshot");
        Assert.Equal("POST", body.GetProperty("request").GetProperty("method").GetString());
        Assert.Equal("{\"order\": 42}", body.GetProperty("request").GetProperty("body").GetString());
        Assert.Equal(500, body.GetProperty("response").GetProperty("status").GetInt32());
        Assert.Equal("{\"order\": 42}", body.GetProperty("response").GetProperty("body").GetString());
        Assert.Contains(body.GetProperty("logs").EnumerateArray(), l => l.GetString()!.Contains("failing: POST /echo?status=500", StringComparison.Ordinal));
        // The line also passed through to the sidecar's own output, while it runs (buffered writes are flushed).
        await Poll.UntilAsync(() => Task.FromResult(sidecar.Output), o => o.Contains("failing: POST /echo?status=500", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the line in the sidecar's output");
        var process = body.GetProperty("process");
        Assert.True(process.GetProperty("rssBytes").GetInt64() > 1_000_000);
        Assert.True(process.GetProperty("threads").GetInt32() > 1);
        var environment = body.GetProperty("environment");
        Assert.Equal("failing", environment.GetProperty("FUNCTION_NAME").GetString());
        // What the sidecar set for itself (inline socket completions, the exporter's disk retry) stays its own.
        Assert.False(environment.TryGetProperty("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", out _));
        Assert.False(environment.TryGetProperty("OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY", out _));
        Assert.Equal(1, MetricsText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "obs_sidecar_snapshots_total{trigger=\"status_5xx\"}"));
    }

    [Fact]
    public async Task An_exception_is_a_snapshot_with_its_type_and_stack_from_the_runtime_and_the_last_log_lines()
    {
        // Kept after the upload, so that the file is there to look at.
        await using var sidecar = await SidecarRunner.StartAsync("thrower", _collector, "DumpOnFailure=Triage", $"DumpDirectory={_dumps}", "KeepUploadedDumps=true");
        Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await sidecar.Client.GetAsync("/throw")).StatusCode);

        var snapshot = Assert.Single(await SnapshotsAsync("thrower", 1));
        Assert.Equal("status_5xx", snapshot.GetProperty("trigger").GetString());
        var body = snapshot.GetProperty("snapshot");
        var exception = Assert.Single(body.GetProperty("exceptions").EnumerateArray());
        Assert.Equal("System.InvalidOperationException", exception.GetProperty("type").GetString());
        Assert.Equal("sample failure: thrower was asked to throw", exception.GetProperty("message").GetString());
        Assert.Contains("at Program.", exception.GetProperty("stackTrace").GetString(), StringComparison.Ordinal);
        Assert.Contains(body.GetProperty("logs").EnumerateArray(), l => l.GetString()!.Contains("thrower: GET /throw", StringComparison.Ordinal));

        var dump = body.GetProperty("dump");
        Assert.Equal(JsonValueKind.Null, dump.GetProperty("error").ValueKind);
        Assert.True(new FileInfo(dump.GetProperty("path").GetString()!).Length > 1_000_000);
        Assert.StartsWith(_dumps, dump.GetProperty("path").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dump_written_on_failure_reaches_the_collector_and_downloads_identical_to_the_file()
    {
        await using var sidecar = await SidecarRunner.StartAsync("dump-keeper", _collector, "DumpOnFailure=Triage", $"DumpDirectory={_dumps}", "KeepUploadedDumps=true");
        Assert.Equal(HttpStatusCode.InternalServerError, (await sidecar.Client.GetAsync("/throw")).StatusCode);

        var (dump, snapshotId) = await DumpSnapshotAsync(_collector, "dump-keeper");
        var path = dump.GetProperty("path").GetString()!;
        var detail = await Poll.UntilAsync(
            () => _collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/snapshots/{snapshotId}"),
            d => d.GetProperty("dump").GetProperty("downloadable").GetBoolean(),
            what: "the dump's upload");
        Assert.Equal(dump.GetProperty("id").GetString(), detail.GetProperty("dump").GetProperty("id").GetString());

        using var download = await _collector.Query.GetAsync($"/api/v1/snapshots/{snapshotId}/dump");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(Path.GetFileName(path), download.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var file = await File.ReadAllBytesAsync(path);
        Assert.True(file.Length > 1_000_000, $"a triage dump of a .NET process is megabytes, this one is {file.Length} bytes");
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(file), System.Security.Cryptography.SHA256.HashData(await download.Content.ReadAsByteArrayAsync()));
        Assert.Equal(1, MetricsText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "obs_sidecar_dump_uploads_total{outcome=\"uploaded\"}"));
    }

    [Fact]
    public async Task An_uploaded_dump_is_deleted_from_the_function_host_by_default_and_one_not_uploaded_stays()
    {
        // The collector refuses this one (over its limit): it must stay where the snapshot says.
        await using var small = await CollectorRunner.StartAsync(database.ConnectionString, o => o.MaxDumpBytes = 1024);
        await using var refused = await SidecarRunner.StartAsync("dump-refused", small, "DumpOnFailure=Triage", $"DumpDirectory={_dumps}");
        await using var sidecar = await SidecarRunner.StartAsync("dump-mover", _collector, "DumpOnFailure=Triage", $"DumpDirectory={_dumps}");
        Assert.Equal(HttpStatusCode.InternalServerError, (await refused.Client.GetAsync("/throw")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await sidecar.Client.GetAsync("/throw")).StatusCode);

        var (dump, snapshotId) = await DumpSnapshotAsync(_collector, "dump-mover");
        await Poll.UntilAsync(
            () => _collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/snapshots/{snapshotId}"),
            d => d.GetProperty("dump").GetProperty("downloadable").GetBoolean(),
            what: "the dump's upload");
        await Poll.UntilAsync(() => Task.FromResult(File.Exists(dump.GetProperty("path").GetString()!)), exists => !exists, what: "the uploaded dump's deletion");
        var downloaded = await _collector.Query.GetByteArrayAsync($"/api/v1/snapshots/{snapshotId}/dump");
        Assert.Equal(dump.GetProperty("bytes").GetInt64(), downloaded.LongLength);

        var (refusedDump, _) = await DumpSnapshotAsync(small, "dump-refused");
        await Poll.UntilAsync(
            () => refused.Admin.GetStringAsync("/metrics"),
            m => MetricsText.Value(m, "obs_sidecar_dump_uploads_total{outcome=\"too_large\"}") == 1,
            what: "the refused upload");
        Assert.Equal(refusedDump.GetProperty("bytes").GetInt64(), new FileInfo(refusedDump.GetProperty("path").GetString()!).Length);
    }

    /// <summary>The dump object of the function's snapshot that wrote one (a failing request can also be reported as an unhandled exception, without a dump), and that snapshot's id.</summary>
    private async Task<(JsonElement Dump, string SnapshotId)> DumpSnapshotAsync(CollectorRunner collector, string function)
    {
        var snapshots = await Poll.UntilAsync(
            () => collector.SnapshotsAsync(function, 1),
            found => found.Any(s => s.GetProperty("snapshot").TryGetProperty("dump", out var d) && d.TryGetProperty("id", out _)),
            what: $"a snapshot of {function} with an uploaded dump's id");
        var dump = snapshots.Select(s => s.GetProperty("snapshot").GetProperty("dump")).First(d => d.TryGetProperty("id", out _));
        var id = await Sql.ScalarAsync<string>(database.ConnectionString, "SELECT encode(log_id, 'hex') FROM logs WHERE body -> 'dump' ->> 'id' = $1", dump.GetProperty("id").GetString()!);
        return (dump, id);
    }

    [Fact]
    public async Task An_exception_the_app_reports_as_unhandled_outside_a_request_is_a_snapshot_of_its_own()
    {
        await using var sidecar = await SidecarRunner.StartAsync("background", _collector);
        Assert.Equal(HttpStatusCode.Accepted, (await sidecar.Client.PostAsync("/background-failure", null)).StatusCode);

        var snapshot = Assert.Single(await SnapshotsAsync("background", 1));
        Assert.Equal("unhandled_exception", snapshot.GetProperty("trigger").GetString());
        var exception = Assert.Single(snapshot.GetProperty("snapshot").GetProperty("exceptions").EnumerateArray());
        Assert.Equal("background failure in background", exception.GetProperty("message").GetString());
        Assert.Contains("Unhandled exception in background work", exception.GetProperty("stackTrace").GetString() + string.Join('\n', snapshot.GetProperty("snapshot").GetProperty("logs").EnumerateArray()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_request_that_threw_long_after_it_arrived_is_one_snapshot_and_a_background_failure_right_after_it_is_its_own()
    {
        await using var sidecar = await SidecarRunner.StartAsync("slow-thrower", _collector);
        // The handler throws 3 s after the request arrived (a cold start or a slow dependency does the same),
        // longer than the 2 s the sidecar gives a failing request to claim an exception the runtime reports.
        Assert.Equal(HttpStatusCode.InternalServerError, (await sidecar.Client.GetAsync("/throw?delay=3000")).StatusCode);
        // An exception outside any request, right after the failing one: its own snapshot (not claimed by the request),
        // and once that is taken, the first exception's check has run too.
        Assert.Equal(HttpStatusCode.Accepted, (await sidecar.Client.PostAsync("/background-failure", null)).StatusCode);

        var snapshots = await Poll.UntilAsync(
            () => SnapshotsAsync("slow-thrower", 1),
            found => found.Any(s => s.GetProperty("trigger").GetString() == "unhandled_exception"),
            what: "the background failure's snapshot");
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsText.Value(metrics, "obs_sidecar_snapshots_total{trigger=\"status_5xx\"}"));
        Assert.Equal(1, MetricsText.Value(metrics, "obs_sidecar_snapshots_total{trigger=\"unhandled_exception\"}"));
        Assert.Equal(["status_5xx", "unhandled_exception"], snapshots.Select(s => s.GetProperty("trigger").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Secrets_in_headers_bodies_urls_and_environment_never_reach_the_database()
    {
        string[] secrets = ["hdr-bearer-0a1b2c3d4e", "cookie-5f6a7b8c", "apikey-9d0e1f2a", "body-pw-3b4c5d6e", "query-tok-7f8a9b0c", "env-pw-1c2d3e4f", "conn-pw-5a6b7c8d", "custom-9e0f1a2b"];
        await using var sidecar = await SidecarRunner.StartAsync(
            "secretive",
            _collector,
            $"FunctionEnvironment:DB_PASSWORD={secrets[5]}",
            $"FunctionEnvironment:ConnectionStrings__Main=Host=db;Username=app;Password={secrets[6]}",
            "RedactPatterns:0=custom-[0-9a-f]{8}");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/echo?status=500&access_token={secrets[4]}")
        {
            Content = new StringContent($"{{\"user\": \"ann\", \"password\": \"{secrets[3]}\", \"note\": \"{secrets[7]}\"}}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Authorization", "Bearer " + secrets[0]);
        request.Headers.Add("Cookie", "session=" + secrets[1]);
        request.Headers.Add("X-Api-Key", secrets[2]);
        using var response = await sidecar.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);

        var body = Assert.Single(await SnapshotsAsync("secretive", 1)).GetProperty("snapshot");
        Assert.Equal("[REDACTED]", body.GetProperty("request").GetProperty("headers").GetProperty("Authorization").GetString());
        Assert.Equal("[REDACTED]", body.GetProperty("environment").GetProperty("DB_PASSWORD").GetString());
        Assert.Contains("\"user\": \"ann\"", body.GetProperty("request").GetProperty("body").GetString(), StringComparison.Ordinal);
        await Poll.UntilAsync(() => SpansAsync("secretive", "POST /echo", n => n >= 1), s => s.Count == 1);

        var everything = await Sql.ScalarAsync<string>(database.ConnectionString,
            "SELECT coalesce((SELECT string_agg(l::text, ' ') FROM logs l), '') || coalesce((SELECT string_agg(s::text, ' ') FROM spans s), '')");
        Assert.Contains("secretive", everything, StringComparison.Ordinal);
        Assert.All(secrets, secret => Assert.DoesNotContain(secret, everything, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_upstream_timeout_is_504_an_error_span_and_a_snapshot()
    {
        await using var sidecar = await SidecarRunner.StartAsync("sluggish", _collector, "UpstreamTimeout=00:00:00.3");
        using var response = await sidecar.Client.GetAsync("/slow?ms=3000");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);

        var span = Assert.Single(await SpansAsync("sluggish", "GET /slow", n => n >= 1));
        Assert.Equal("error", span.GetProperty("status").GetProperty("code").GetString());
        Assert.Equal(504, span.GetProperty("attributes").GetProperty("http.response.status_code").GetInt32());
        var snapshot = Assert.Single(await SnapshotsAsync("sluggish", 1));
        Assert.Equal("timeout", snapshot.GetProperty("trigger").GetString());
        Assert.Equal(span.GetProperty("spanId").GetString(), snapshot.GetProperty("spanId").GetString());
        Assert.Equal(504, snapshot.GetProperty("snapshot").GetProperty("response").GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_function_that_never_listens_is_503_and_a_snapshot_with_its_output()
    {
        await using var sidecar = await SidecarRunner.StartCommandAsync("mute", _collector, ["sh", "-c", "echo 'loading a model that never loads'; exec sleep 60"], "ReadyTimeout=00:00:00.5");
        using var response = await sidecar.Client.GetAsync("/hello");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await sidecar.Admin.GetAsync("/readyz")).StatusCode);

        var snapshot = Assert.Single(await SnapshotsAsync("mute", 1));
        Assert.Equal("not_ready", snapshot.GetProperty("trigger").GetString());
        Assert.Contains(snapshot.GetProperty("snapshot").GetProperty("logs").EnumerateArray(), l => l.GetString() == "stdout: loading a model that never loads");
    }

    [Fact]
    public async Task After_the_idle_timeout_the_next_request_is_cold_again()
    {
        await using var sidecar = await SidecarRunner.StartAsync("sleepy", _collector, "IdleTimeout=00:00:00.4");
        Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
        // After the request only an idle stop takes the function down, however late this looks (the stop may
        // come before the first poll; counting stops from here would then wait for one more that never comes).
        await Poll.UntilAsync(
            () => sidecar.Admin.GetStringAsync("/metrics"),
            m => MetricsText.Value(m, "obs_sidecar_function_up") == 0 && MetricsText.Value(m, "obs_sidecar_idle_stops_total") >= 1,
            what: "the idle stop");
        // Still ready: a failing probe would take away the traffic that starts the function again.
        using (var ready = await sidecar.Admin.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Contains("scaled to zero", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
        var spans = await SpansAsync("sleepy", "GET /hello", n => n >= 2);
        Assert.All(spans, s => Assert.True(s.GetProperty("function").GetProperty("coldStart").GetBoolean()));
        var coldStarts = await SpansAsync("sleepy", "faas.coldstart", n => n >= 2);
        Assert.Equal(2, coldStarts.Count);
    }

    [Fact]
    public async Task A_clean_stop_leaves_no_empty_spool_folder_behind()
    {
        var spool = Path.Combine(Path.GetTempPath(), $"obs-sidecar-spool-test-{Guid.NewGuid():N}");
        await using (var sidecar = await SidecarRunner.StartAsync("tidy", _collector, $"SpoolDirectory={spool}"))
        {
            Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
            Assert.Single(await SpansAsync("tidy", "GET /hello", n => n >= 1));
            Assert.True(Directory.Exists(spool));
        }

        Assert.False(Directory.Exists(spool), "everything was delivered, so the spool folder should be gone");
    }

    [Fact]
    public async Task A_node_function_gets_traces_and_a_cold_start_too()
    {
        await using var sidecar = await SidecarRunner.StartNodeAsync("node-fn", _collector);
        for (var i = 0; i < 2; i++)
        {
            using var response = await sidecar.Client.GetAsync("/");
            Assert.Equal("hello from node", (await response.Content.ReadAsStringAsync()).Trim());
        }

        var spans = await SpansAsync("node-fn", "GET /", n => n >= 2);
        Assert.Equal([true, false], spans.OrderBy(s => s.GetProperty("startTime").GetDateTime())
            .Select(s => s.GetProperty("function").GetProperty("coldStart").GetBoolean()).ToArray());
        Assert.Single(await SpansAsync("node-fn", "faas.coldstart", n => n >= 1));
    }

    [Fact]
    public async Task With_sampling_off_only_errors_and_cold_starts_are_exported_and_the_rest_counted()
    {
        await using var sidecar = await SidecarRunner.StartAsync("sampled", _collector, "SamplingRatio=0");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.InternalServerError, (await sidecar.Client.PostAsync("/echo?status=500", null)).StatusCode);

        var metrics = await Poll.UntilAsync(() => sidecar.Admin.GetStringAsync("/metrics"), m => MetricsText.Value(m, "obs_sidecar_spans_exported_total") >= 7, what: "spans exported");
        // The cold invocation, the cold-start record (root, init with runtime_start and app_init, first_request) and the error.
        Assert.Equal(7, MetricsText.Value(metrics, "obs_sidecar_spans_exported_total"));
        Assert.Equal(9, MetricsText.Value(metrics, "obs_sidecar_spans_sampled_out_total"));
        Assert.Equal(0, MetricsText.Value(metrics, "obs_sidecar_spans_dropped_total"));
        Assert.Equal(0, MetricsText.Value(metrics, "obs_sidecar_export_queue_spans"));
        var hellos = await SpansAsync("sampled", "GET /hello", n => n >= 1);
        Assert.True(Assert.Single(hellos).GetProperty("function").GetProperty("coldStart").GetBoolean());
        Assert.Single(await SpansAsync("sampled", "POST /echo", n => n >= 1));
        Assert.Single(await SpansAsync("sampled", "faas.coldstart", n => n >= 1));
    }

    [Fact]
    public async Task With_no_collector_every_request_still_succeeds()
    {
        await using var sidecar = await SidecarRunner.StartAsync("unobserved", null);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
        }
    }

    private Task<List<JsonElement>> SpansAsync(string function, string name, Func<int, bool> enough) => _collector.SpansAsync(function, name, enough);

    private Task<List<JsonElement>> SnapshotsAsync(string function, int atLeast) => _collector.SnapshotsAsync(function, atLeast);
}
