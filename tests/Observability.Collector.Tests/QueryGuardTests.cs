using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Observability.Collector.Query;
using Observability.Testing;
using static Observability.Testing.OtlpFactory;

namespace Observability.Collector.Tests;

/// <summary>
/// The query guards on a real collector and PostgreSQL: bad parameters, too long a range and too large a limit
/// are 400 with the reason in both APIs; a query past the statement timeout is 504; attribute filters are served
/// by an index.
/// </summary>
public sealed class QueryGuardTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString, o =>
    {
        o.QueryTimeout = Timeout;
        o.MaxQueryRange = TimeSpan.FromDays(2);
        o.MaxQueryLimit = 50;
        o.AttributeIndex = true;
    });

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Theory]
    [InlineData("/api/v1/traces?start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z", "must be before end")]
    [InlineData("/api/v1/traces?start=2026-01-01T00:00:00Z&end=2026-01-01T00:00:00Z", "must be before end")]
    [InlineData("/api/v1/traces?start=2026-01-01T00:00:00Z&end=2026-01-03T00:00:01Z", "longer than the maximum of 2 days")]
    [InlineData("/api/v1/traces?start=0", "longer than the maximum of 2 days")]
    [InlineData("/api/v1/traces?end=-5", "end=\"-5\" is out of range")]
    [InlineData("/api/v1/traces?end=999999999999999999", "end=\"999999999999999999\" is out of range")]
    [InlineData("/api/v1/traces?start=noon", "start=\"noon\" is not a time")]
    [InlineData("/api/v1/traces?limit=51", "from 1 to 50")]
    [InlineData("/api/v1/traces?limit=0", "from 1 to 50")]
    [InlineData("/api/v1/traces?limit=ten", "from 1 to 50")]
    [InlineData("/api/v1/traces?attr.=x", "empty key")]
    [InlineData("/api/v1/traces?attr.user.id=1&attr.user.id=2", "give each attribute once")]
    [InlineData("/api/v1/snapshots?start=2026-01-01T00:00:00Z&end=2026-01-04T00:00:00Z", "longer than the maximum")]
    [InlineData("/api/v1/snapshots?limit=500", "from 1 to 50")]
    [InlineData("/jaeger/api/traces?service=x&lookback=72h", "longer than the maximum of 2 days")]
    [InlineData("/jaeger/api/traces?service=x&start=2000000&end=1000000", "must be before end")]
    [InlineData("/jaeger/api/traces?service=x&start=soon", "start=\"soon\" is not a time")]
    [InlineData("/jaeger/api/traces?service=x&limit=1000", "from 1 to 50")]
    [InlineData("/jaeger/api/traces?service=x&tags=%7B%22a%22%3A%7B%22b%22%3A1%7D%7D", "tag \"a\" has a object value")]
    [InlineData("/jaeger/api/traces?service=x&tags=%7B%22a%22%3A%221%22%2C%22a%22%3A%222%22%7D", "\"a\" is filtered twice")]
    [InlineData("/jaeger/api/traces?service=x&tags=%7B%22%22%3A%221%22%7D", "empty key")]
    [InlineData("/jaeger/api/traces?service=x&tags=not-json", "tags must be a JSON object")]
    public async Task Bad_search_parameters_get_400_with_the_reason(string path, string reason)
    {
        using var response = await _collector.Query.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/v1/traces?start=2026-01-01T00:00:00Z&end=2026-01-03T00:00:00Z&limit=50")]
    [InlineData("/api/v1/snapshots?start=2026-01-01T00:00:00Z&end=2026-01-03T00:00:00Z&limit=50")]
    [InlineData("/jaeger/api/traces?service=x&lookback=48h&limit=50&tags=%7B%22http.response.status_code%22%3A500%7D")]
    [InlineData("/jaeger/api/traces?service=x&lookback=custom&start=1764547200000000&end=1764633600000000")]
    public async Task A_search_at_the_limits_is_answered(string path)
    {
        using var response = await _collector.Query.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_query_past_the_statement_timeout_is_504_saying_how_to_narrow_it_and_the_next_query_is_answered()
    {
        // A lock held by another session keeps every search on spans waiting: deterministic, however fast the machine.
        await using var blocker = new NpgsqlConnection(database.ConnectionString);
        await blocker.OpenAsync();
        await using (var tx = await blocker.BeginTransactionAsync())
        {
            await using (var lockSpans = new NpgsqlCommand("LOCK TABLE spans IN ACCESS EXCLUSIVE MODE", blocker, tx))
            {
                await lockSpans.ExecuteNonQueryAsync();
            }

            foreach (var path in new[] { "/api/v1/traces?service=locked", "/jaeger/api/traces?service=locked" })
            {
                var clock = Stopwatch.StartNew();
                using var response = await _collector.Query.GetAsync(path);
                Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
                Assert.Contains("statement timeout of 1 s", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
                Assert.InRange(clock.Elapsed, Timeout, TimeSpan.FromSeconds(15));
            }

            await tx.RollbackAsync();
        }

        using var after = await _collector.Query.GetAsync("/api/v1/traces?service=locked");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Attribute_filters_are_served_by_the_attribute_index_on_a_realistic_table()
    {
        // 60,000 spans with 12 attributes each (a high-cardinality order id among them) and a shared resource.
        await Sql.ScalarAsync<int>(database.ConnectionString, """
            INSERT INTO spans (trace_id, span_id, name, kind, start_time, duration_ns, status_code, flags, service_name, warmup, attributes, resource, events, links)
            SELECT decode(lpad(to_hex(i), 32, '0'), 'hex'), decode(lpad(to_hex(i), 16, '0'), 'hex'), 'GET /orders/{id}', 2,
                   now() - (i % 3000) * interval '1 second', 1000000, 0, 0, 'indexed-svc', false,
                   jsonb_build_object('order.id', 'o-' || i, 'http.request.method', 'GET', 'http.route', '/orders/{id}',
                       'http.response.status_code', CASE WHEN i % 50 = 0 THEN 500 ELSE 200 END, 'server.address', 'api.example.com',
                       'url.scheme', 'https', 'user_agent.original', 'bench/1.0', 'network.peer.port', 40000 + i % 1000,
                       'app.tenant', 't-' || (i % 200), 'app.cache_hit', i % 3 = 0, 'app.region', 'eu-west-1', 'app.shard', i % 16),
                   '{"service.name":"indexed-svc","faas.name":"orders","cloud.region":"eu-west-1","telemetry.sdk.language":"dotnet"}',
                   '[]', '[]'
            FROM generate_series(1, 60000) AS i;
            ANALYZE spans;
            SELECT 1;
            """);

        var store = _collector.Services.GetRequiredService<TraceStore>();
        var now = DateTime.UtcNow;
        var query = new TraceQuery
        {
            Start = now.AddHours(-2),
            End = now.AddMinutes(1),
            Attributes = new Dictionary<string, string> { ["order.id"] = "o-31337" },
        };
        await using (var explain = store.FindTraceIdsCommand(query))
        {
            explain.CommandText = "EXPLAIN (FORMAT JSON) " + explain.CommandText;
            var plan = (string)(await explain.ExecuteScalarAsync())!;
            Assert.Contains("\"Bitmap Index Scan\"", plan, StringComparison.Ordinal);
            Assert.Contains("attributes_idx", plan, StringComparison.Ordinal);
        }

        var found = await _collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/traces?service=indexed-svc&start=" + Uri.EscapeDataString(now.AddHours(-2).ToString("O")) + "&attr.order.id=o-31337");
        Assert.Equal(31337.ToString("x32", System.Globalization.CultureInfo.InvariantCulture), Assert.Single(found.GetProperty("items").EnumerateArray()).GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task The_functions_page_reads_each_versions_invocations_from_its_covering_index_alone()
    {
        // 20 function versions, 100,000 spans over a day: one in five a SERVER span (the invocations), the rest
        // the CLIENT and INTERNAL spans of the same functions, which the page must not read.
        var fresh = await (await PostgresServer.Shared).CreateDatabaseAsync("function-page");
        await using var collector = await CollectorRunner.StartAsync(fresh);
        await using (var conn = new NpgsqlConnection(fresh))
        {
            await conn.OpenAsync();
            foreach (var sql in new[]
            {
                """
                INSERT INTO spans (trace_id, span_id, name, kind, start_time, duration_ns, status_code, flags, service_name, warmup,
                                   function_name, function_version, faas_coldstart, attributes, resource, events, links)
                SELECT decode(lpad(to_hex(i), 32, '0'), 'hex'), decode(lpad(to_hex(i), 16, '0'), 'hex'), 'GET /work',
                       CASE WHEN i % 5 = 0 THEN 2 ELSE 1 + (i % 2) * 2 END, now() - (i % 86000) * interval '1 second',
                       1000000 + (i % 997) * 1000, CASE WHEN i % 50 = 0 THEN 2 ELSE 0 END, 0, 'fn-svc', i % 100 = 0,
                       'fn-' || (i % 10), 'v' || (i / 10 % 2), i % 25 = 0, '{}', '{}', '[]', '[]'
                FROM generate_series(1, 100000) AS i
                """,
                """
                INSERT INTO functions (function_name, function_version, first_seen, last_seen, invocations, errors, cold_starts, warmups)
                SELECT 'fn-' || f, 'v' || v, now() - interval '1 day', now(), 1, 0, 0, 0 FROM generate_series(0, 9) f, generate_series(0, 1) v
                """,
                "VACUUM ANALYZE spans",
            })
            {
                await using var seed = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
                await seed.ExecuteNonQueryAsync();
            }

            await using var explain = new NpgsqlCommand("EXPLAIN (FORMAT JSON) " + FunctionOverviewStore.Sql, conn);
            foreach (var value in new object?[] { DateTime.UtcNow.AddDays(-1), DateTime.UtcNow, null, null, 20 })
            {
                explain.Parameters.Add(value is null ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text } : new NpgsqlParameter { Value = value });
            }

            var plan = (string)(await explain.ExecuteScalarAsync())!;
            // Both per-version reads (the sums and the p95) are index-only scans of spans_invocations' partitions.
            Assert.True(System.Text.RegularExpressions.Regex.Count(plan, "\"Index Only Scan\"") >= 2, plan);
            Assert.DoesNotContain("function_name_start_time_idx", plan, StringComparison.Ordinal);
        }

        var page = await collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/functions?start=" + Uri.EscapeDataString(DateTime.UtcNow.AddDays(-1).AddMinutes(-5).ToString("O")));
        var first = page.GetProperty("items").EnumerateArray().First();
        Assert.Equal("fn-0", first.GetProperty("name").GetString());
        Assert.Equal("v0", first.GetProperty("version").GetString());
        // fn-0 v0 is every 20th span, a warm-up ping every 100th: its invocations, computed here from the same rule.
        var invocations = Enumerable.Range(1, 100000).Count(i => i % 5 == 0 && i % 10 == 0 && i / 10 % 2 == 0 && i % 100 != 0);
        Assert.Equal(invocations, first.GetProperty("range").GetProperty("invocations").GetDouble());
    }

    [Fact]
    public async Task The_attribute_index_is_there_only_while_the_setting_asks_for_it()
    {
        var server = await PostgresServer.Shared;
        var fresh = await server.CreateDatabaseAsync("attribute-index");
        const string Count = "SELECT count(*) FROM pg_indexes WHERE tablename = 'spans' AND indexname IN ('spans_attributes', 'spans_resource')";
        foreach (var (on, expected) in new[] { (false, 0L), (true, 2L), (false, 0L) })
        {
            await using var collector = await CollectorRunner.StartAsync(fresh, o => o.AttributeIndex = on);
            Assert.Equal(expected, await Sql.ScalarAsync<long>(fresh, Count));
        }
    }
}
