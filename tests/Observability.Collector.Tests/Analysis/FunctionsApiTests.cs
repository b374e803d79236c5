using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Observability.Testing;
using static Observability.Collector.Tests.Analysis.AnalysisSeed;
using static Observability.Testing.OtlpFactory;

namespace Observability.Collector.Tests.Analysis;

/// <summary>GET /api/v1/functions: each function version's numbers over a time range, its idle time and its warm-up target.</summary>
public sealed class FunctionsApiTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task Rates_and_weighted_p95_count_the_range_without_pings_and_idle_time_runs_from_the_last_invocation()
    {
        var t0 = Minute(DateTime.UtcNow.AddHours(-2));
        var end = t0.AddHours(1);
        var warm = Enumerable.Range(1, 8).Select(i => Invocation(t0.AddMinutes(i), 10 * i, error: i == 3)).ToList();
        var cold = new[] { Invocation(t0.AddMinutes(20), 300, cold: true), Invocation(t0.AddMinutes(30), 500, cold: true) };
        var sampled = Invocation(t0.AddMinutes(40), 5, adjustedCount: 10); // stands for 10 fast invocations
        var last = Invocation(t0.AddMinutes(45), 80);
        var pings = new[] { Invocation(t0.AddMinutes(50), 1000, warmUp: true), Invocation(t0.AddMinutes(55), 1000, warmUp: true, cold: true) };
        var outside = Invocation(t0.AddMinutes(-10), 9000, cold: true);
        await IngestAsync(Export("fo-a", "1", [.. warm, .. cold, sampled, last, .. pings, outside, Internal(t0.AddMinutes(5), 7000)]));

        var before = DateTime.UtcNow;
        var page = await GetAsync($"/api/v1/functions?start={Iso(t0)}&end={Iso(end)}");
        var after = DateTime.UtcNow;
        var fn = page.GetProperty("items").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "fo-a");
        var range = fn.GetProperty("range");

        // Invocations: 8 warm + 2 cold + 1 standing for 10 + the last = 21; pings, the span before start and the internal span left out.
        const double Invocations = 8 + 2 + 10 + 1;
        Assert.Equal(Invocations, range.GetProperty("invocations").GetDouble());
        Assert.Equal(1 / Invocations, range.GetProperty("errorRate").GetDouble(), 1e-12);
        Assert.Equal(2 / Invocations, range.GetProperty("coldStartRate").GetDouble(), 1e-12);
        Assert.Equal(2, range.GetProperty("warmUpPings").GetDouble());
        double[] durations = [.. warm.Select((_, i) => 10.0 * (i + 1)), 300, 500, 80];
        var p95 = WeightedPercentile([.. durations.Select(d => (d, 1.0)), (5, 10)], 0.95);
        Assert.Equal(p95, range.GetProperty("p95LatencyMs").GetDouble(), 1e-9);
        Assert.NotEqual(Percentile([.. durations, 5], 0.95), p95); // the weight matters: unweighted it would be another span

        var lastInvoked = fn.GetProperty("lastInvoked").GetDateTime().ToUniversalTime();
        Assert.Equal(t0.AddMinutes(45), lastInvoked);
        var idle = fn.GetProperty("idleSeconds").GetDouble();
        Assert.InRange(idle, (before - lastInvoked).TotalSeconds - 1, (after - lastInvoked).TotalSeconds + 1);
        Assert.False(fn.TryGetProperty("warmUp", out _)); // no scheduler tables in this database yet
    }

    [Fact]
    public async Task The_warm_up_target_and_its_pings_in_the_range_are_listed_once_the_scheduler_tables_exist()
    {
        var t0 = Minute(DateTime.UtcNow.AddHours(-3));
        await IngestAsync(Export("fo-warm", "1", Invocation(t0.AddMinutes(1), 10)));
        var url = $"/api/v1/functions?start={Iso(t0)}&end={Iso(t0.AddHours(1))}";
        Assert.False(Single(await GetAsync(url), "fo-warm").TryGetProperty("warmUp", out _));

        // The tables as CONTRACTS.md §2 gives them (the scheduler creates them where it runs).
        await ExecuteAsync("""
            CREATE SCHEMA IF NOT EXISTS warmup;
            CREATE TABLE IF NOT EXISTS warmup.targets(function_name text PRIMARY KEY, url text, policy text, instances int, budget_per_hour int,
                active_hours text, source text, updated_at timestamptz);
            CREATE TABLE IF NOT EXISTS warmup.pings(id bigserial, function_name text, url text, planned_at timestamptz, sent_at timestamptz,
                outcome text, status_code int null, latency_ms double precision, instances int);
            """);
        await ExecuteAsync("INSERT INTO warmup.targets VALUES ('fo-warm', 'http://fo/warm', 'idle', 2, 30, NULL, 'config', now())");
        var sent = new[] { (1, "warm"), (2, "warm"), (3, "warm"), (4, "cold"), (5, "failed"), (-5, "warm"), (70, "cold") };
        foreach (var (minute, outcome) in sent)
        {
            await ExecuteAsync(
                "INSERT INTO warmup.pings(function_name, url, planned_at, sent_at, outcome, instances) VALUES ('fo-warm', 'http://fo/warm', $1, $1, $2, 1)",
                t0.AddMinutes(minute), outcome);
        }

        var warmUp = Single(await GetAsync(url), "fo-warm").GetProperty("warmUp");

        Assert.Equal(("idle", 2, 30, "config"), (warmUp.GetProperty("policy").GetString(), warmUp.GetProperty("instances").GetInt32(), warmUp.GetProperty("budgetPerHour").GetInt32(), warmUp.GetProperty("source").GetString()));
        var pings = warmUp.GetProperty("pings");
        var inRange = sent.Where(s => s.Item1 is >= 0 and < 60).ToList();
        Assert.Equal(
            (inRange.Count(s => s.Item2 == "warm"), inRange.Count(s => s.Item2 == "cold"), inRange.Count(s => s.Item2 == "failed")),
            (pings.GetProperty("warm").GetInt32(), pings.GetProperty("cold").GetInt32(), pings.GetProperty("failed").GetInt32()));
        Assert.Equal(t0.AddMinutes(inRange.Max(s => s.Item1)), pings.GetProperty("lastSent").GetDateTime().ToUniversalTime());
    }

    [Fact]
    public async Task Pages_follow_the_cursor_and_bad_parameters_get_400_with_the_reason()
    {
        var t0 = Minute(DateTime.UtcNow.AddHours(-1));
        await IngestAsync(Export("fo-page-1", "1", Invocation(t0, 1)));
        await IngestAsync(Export("fo-page-2", "1", Invocation(t0, 1)));
        await IngestAsync(Export("fo-page-2", "2", Invocation(t0, 1)));

        var names = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await GetAsync("/api/v1/functions?limit=2" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor)));
            names.AddRange(page.GetProperty("items").EnumerateArray().Select(f => f.GetProperty("name").GetString() + "@" + f.GetProperty("version").GetString()));
            cursor = page.GetProperty("next").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        var all = (await GetAsync("/api/v1/functions?limit=1000")).GetProperty("items").EnumerateArray()
            .Select(f => f.GetProperty("name").GetString() + "@" + f.GetProperty("version").GetString()).ToList();
        Assert.Equal(all, names);
        Assert.Equal((all.Count + 1) / 2, pages);
        Assert.Contains("fo-page-2@2", all);

        foreach (var (query, reason) in new[] { ("cursor=nonsense", "cursor"), ("limit=0", "limit"), ("start=yesterday", "start"), ("start=2020-01-01T00:00:00Z", "maximum") })
        {
            using var response = await _collector.Query.GetAsync("/api/v1/functions?" + query);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(reason, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
        }
    }

    private static JsonElement Single(JsonElement page, string name) =>
        page.GetProperty("items").EnumerateArray().Single(f => f.GetProperty("name").GetString() == name);

    private async Task IngestAsync(OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest request)
    {
        using var response = await _collector.Ingest.PostAsync("/v1/traces", Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<JsonElement> GetAsync(string url) => await _collector.Query.GetFromJsonAsync<JsonElement>(url);

    private async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var conn = new NpgsqlConnection(database.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        await cmd.ExecuteNonQueryAsync();
    }

    internal static DateTime Minute(DateTime t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);

    internal static string Iso(DateTime t) => Uri.EscapeDataString(t.ToString("O"));
}
