using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Observability.Collector.Storage;
using Observability.Testing;
using OpenTelemetry.Proto.Trace.V1;
using static Observability.Testing.OtlpFactory;
using OtlpSpan = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Collector.Tests;

/// <summary>Function RED metrics, trace search, inventory and retention, on one collector.</summary>
public sealed class MetricsAndQueryTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task Function_metrics_count_committed_server_spans_and_leave_warm_ups_apart()
    {
        OtlpSpan Invocation(TimeSpan duration, params OpenTelemetry.Proto.Common.V1.KeyValue[] extra) =>
            Span("GET /", duration: duration, attributes: [Attr("faas.trigger", "http"), .. extra]);
        var failed = Invocation(TimeSpan.FromMilliseconds(30));
        failed.Status = new Status { Code = Status.Types.StatusCode.Error };
        var init = Span("init", kind: OtlpSpan.Types.SpanKind.Internal, duration: TimeSpan.FromMilliseconds(300), attributes: Attr("obs.coldstart.phase", "init"));
        var request = Traces("metered-svc", "metered", [
            Invocation(TimeSpan.FromMilliseconds(40), Attr("faas.coldstart", true)),
            Invocation(TimeSpan.FromMilliseconds(3)),
            failed,
            Invocation(TimeSpan.FromMilliseconds(2), Attr("obs.warmup", true)),
            Span("SELECT", kind: OtlpSpan.Types.SpanKind.Client),
            init]);
        using var response = await _collector.Ingest.PostAsync("/v1/traces", Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var metrics = await _collector.Query.GetStringAsync("/metrics");
        const string Labels = "{function=\"metered\",version=\"1\",trigger=\"http\"}";
        Assert.Equal(3, MetricsText.Value(metrics, "faas_invocations_total" + Labels));
        Assert.Equal(1, MetricsText.Value(metrics, "faas_errors_total" + Labels));
        Assert.Equal(1, MetricsText.Value(metrics, "faas_coldstarts_total" + Labels));
        Assert.Equal(1, MetricsText.Value(metrics, "obs_warmup_invocations_total" + Labels));
        Assert.Equal(3, MetricsText.Value(metrics, "faas_invoke_duration_seconds_count" + Labels));
        Assert.Equal(1, MetricsText.Value(metrics, "faas_invoke_duration_seconds_bucket{function=\"metered\",version=\"1\",trigger=\"http\",le=\"0.005\"}"));
        Assert.Equal(0.3, MetricsText.Value(metrics, "faas_init_duration_seconds_sum{function=\"metered\",version=\"1\"}"), 3);
        Assert.True(MetricsText.Value(metrics, "obs_collector_accepted_total{signal=\"spans\"}") >= 6);

        var functions = await _collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/functions");
        var fn = functions.GetProperty("items").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "metered");
        Assert.Equal((3, 1, 1, 1), (fn.GetProperty("invocations").GetInt64(), fn.GetProperty("errors").GetInt64(), fn.GetProperty("coldStarts").GetInt64(), fn.GetProperty("warmUps").GetInt64()));
        Assert.Equal("metered-0", fn.GetProperty("instances")[0].GetString());
    }

    [Fact]
    public async Task Trace_search_filters_by_service_function_name_duration_errors_and_attributes()
    {
        var slowError = Span("charge", duration: TimeSpan.FromMilliseconds(900), attributes: [Attr("customer.tier", "gold"), Attr("http.response.status_code", 502)]);
        slowError.Status = new Status { Code = Status.Types.StatusCode.Error, Message = "bad gateway" };
        var fast = Span("charge", duration: TimeSpan.FromMilliseconds(5), attributes: Attr("customer.tier", "free"));
        var other = Span("refund", duration: TimeSpan.FromMilliseconds(50));
        using var response = await _collector.Ingest.PostAsync("/v1/traces", Protobuf(Traces("payments", "pay", slowError, fast, other)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        async Task<string[]> Find(string query) =>
            (await _collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/traces?" + query)).GetProperty("items").EnumerateArray()
                .Select(t => t.GetProperty("traceId").GetString()!).Order().ToArray();
        string Id(OtlpSpan s) => Convert.ToHexStringLower(s.TraceId.Span);

        Assert.Equal(new[] { Id(slowError), Id(fast), Id(other) }.Order().ToArray(), await Find("service=payments"));
        Assert.Equal(new[] { Id(slowError), Id(fast) }.Order().ToArray(), await Find("function=pay&name=charge"));
        Assert.Equal([Id(slowError)], await Find("service=payments&minDuration=500ms"));
        Assert.Equal([Id(fast)], await Find("service=payments&maxDuration=10"));
        Assert.Equal([Id(slowError)], await Find("service=payments&errors=true"));
        Assert.Equal([Id(slowError)], await Find("service=payments&attr.customer.tier=gold"));
        Assert.Equal([Id(slowError)], await Find("service=payments&attr.http.response.status_code=502"));
        Assert.Equal([Id(other)], await Find("service=payments&name=refund&limit=1"));
        Assert.Empty(await Find("service=payments&start=2020-01-01T00:00:00Z&end=2020-01-02T00:00:00Z"));

        var summary = (await _collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/traces?service=payments&errors=true")).GetProperty("items")[0];
        Assert.Equal(("charge", 1, 1), (summary.GetProperty("rootName").GetString(), summary.GetProperty("spanCount").GetInt32(), summary.GetProperty("errorCount").GetInt32()));
        Assert.Equal(900_000_000, summary.GetProperty("durationNanos").GetInt64());

        var jaeger = await _collector.Query.GetFromJsonAsync<JsonElement>("/jaeger/api/traces?service=payments&tags=%7B%22error%22%3A%22true%22%7D&minDuration=100ms");
        Assert.Equal(Id(slowError), Assert.Single(jaeger.GetProperty("data").EnumerateArray()).GetProperty("traceID").GetString());
    }

    [Fact]
    public async Task Trace_search_pages_follow_the_cursor_newest_first_without_gaps_or_repeats()
    {
        // Seven single-span traces; three of them start in the same microsecond, so only the trace id orders them.
        var t0 = DateTime.UtcNow.AddMinutes(-30);
        var offsets = new[] { 0, 1, 2, 2, 2, 3, 4 };
        var spans = offsets.Select(minutes =>
        {
            var span = Span("paged op");
            span.StartTimeUnixNano = Nanos(t0.AddMinutes(minutes));
            span.EndTimeUnixNano = span.StartTimeUnixNano + 1_000_000;
            return span;
        }).ToArray();
        using var response = await _collector.Ingest.PostAsync("/v1/traces", Protobuf(Traces("paged-svc", null, spans)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = spans.OrderByDescending(s => s.StartTimeUnixNano).ThenByDescending(s => Convert.ToHexStringLower(s.TraceId.Span), StringComparer.Ordinal)
            .Select(s => Convert.ToHexStringLower(s.TraceId.Span)).ToList();

        var seen = new List<string>();
        var pageSizes = new List<int>();
        string? cursor = null;
        do
        {
            var page = await _collector.Query.GetFromJsonAsync<JsonElement>(
                "/api/v1/traces?service=paged-svc&limit=3" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor)));
            var ids = page.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("traceId").GetString()!).ToList();
            seen.AddRange(ids);
            pageSizes.Add(ids.Count);
            cursor = page.GetProperty("next").GetString();
        }
        while (cursor is not null && pageSizes.Count < 10);

        Assert.Equal([3, 3, 1], pageSizes);
        // Every trace once, in one order across the pages: newest first, the trace id breaking ties.
        Assert.Equal(expected, seen);
    }

    [Theory]
    [InlineData("/api/v1/traces?minDuration=soon", "minDuration")]
    [InlineData("/api/v1/traces?start=yesterday", "start")]
    [InlineData("/api/v1/traces?limit=-3", "limit")]
    [InlineData("/api/v1/traces?cursor=nonsense", "cursor")]
    [InlineData("/api/v1/traces?cursor=WyIxIiwieiJd", "cursor")]
    [InlineData("/api/v1/traces/not-a-trace-id", "trace id")]
    [InlineData("/jaeger/api/traces?limit=5", "service is required")]
    [InlineData("/jaeger/api/traces?service=x&tags=%5B1%5D", "tags")]
    public async Task Bad_query_parameters_get_400_naming_the_parameter(string path, string named)
    {
        using var response = await _collector.Query.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(named, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_trace_is_404_in_both_apis()
    {
        var id = Convert.ToHexStringLower(NewTraceId().Span);
        Assert.Equal(HttpStatusCode.NotFound, (await _collector.Query.GetAsync($"/api/v1/traces/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _collector.Query.GetAsync($"/jaeger/api/traces/{id}")).StatusCode);
    }

    [Fact]
    public async Task Retention_drops_whole_day_partitions_older_than_the_setting()
    {
        var partitions = _collector.Services.GetRequiredService<Partitions>();
        var retention = _collector.Services.GetServices<IHostedService>().OfType<RetentionService>().Single();
        // The collector's own pass at start would otherwise drop the old partitions made here before the insert.
        await retention.FirstPass.WaitAsync(TimeSpan.FromSeconds(30));
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        await partitions.EnsureAsync([today.AddDays(-30), today.AddDays(-8), today.AddDays(-7)], CancellationToken.None);
        await using (var conn = new Npgsql.NpgsqlConnection(database.ConnectionString))
        {
            await conn.OpenAsync();
            await using var insert = new Npgsql.NpgsqlCommand(
                "INSERT INTO logs (log_id, time, observed_time, severity_number, service_name, body, attributes, resource) VALUES ('\\x01', now() - interval '30 days', now(), 9, 'old', '{}', '{}', '{}')", conn);
            await insert.ExecuteNonQueryAsync();
        }

        await retention.RunOnceAsync(CancellationToken.None);

        async Task<bool> Exists(string table) => await Sql.ScalarAsync<bool>(database.ConnectionString, "SELECT to_regclass($1) IS NOT NULL", table);
        Assert.False(await Exists(Partitions.Name("spans", today.AddDays(-30))));
        Assert.False(await Exists(Partitions.Name("logs", today.AddDays(-8))));
        Assert.True(await Exists(Partitions.Name("spans", today.AddDays(-7))));
        Assert.True(await Exists(Partitions.Name("spans", today.AddDays(1))));
        Assert.Equal(0, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM logs WHERE service_name = 'old'"));
    }
}
