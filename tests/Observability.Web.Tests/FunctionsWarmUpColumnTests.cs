using Microsoft.Playwright;
using Npgsql;
using Observability.Testing;

namespace Observability.Web.Tests;

/// <summary>
/// The functions page's warm-up column, over a collector of its own whose database gets the warm-up scheduler's
/// tables (CONTRACTS.md §2) halfway, so the shared seeded collector stays without them.
/// </summary>
[Collection(WebUiTests.Name)]
public sealed class FunctionsWarmUpColumnTests(WebUiFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Warmed = "warmed";
    private const string Cold = "left-cold";
    private string _database = string.Empty;
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync()
    {
        _database = await (await PostgresServer.Shared).CreateDatabaseAsync("webui_warmup");
        _collector = await CollectorRunner.StartAsync(_database);
        foreach (var function in new[] { Warmed, Cold })
        {
            using var sent = await _collector.Ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), OtlpFactory.Protobuf(OtlpFactory.ManyTraces(function, function, 3)));
            sent.EnsureSuccessStatusCode();
        }
    }

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task The_warm_up_column_shows_the_targets_policy_and_its_pings_once_the_scheduler_tables_exist()
    {
        var page = await fixture.NewPageAsync();
        var url = $"{_collector.ApiEndpoint.ToString().TrimEnd('/')}/ui/functions?range=1h";
        var table = page.Locator("table[data-table=functions]");
        var headers = table.Locator("thead th");

        // No scheduler tables: no column.
        await page.GotoAsync(url);
        await Assertions.Expect(table.Locator("tbody tr")).ToHaveCountAsync(2, new LocatorAssertionsToHaveCountOptions { Timeout = 60_000 });
        await Assertions.Expect(headers.Filter(new LocatorFilterOptions { HasTextString = "Warm-up" })).ToHaveCountAsync(0);

        // The scheduler's tables as CONTRACTS.md §2 gives them, one target and its pings: in the last hour, and one
        // two hours ago that the range leaves out.
        await ExecuteAsync("""
            CREATE SCHEMA IF NOT EXISTS warmup;
            CREATE TABLE IF NOT EXISTS warmup.targets(function_name text PRIMARY KEY, url text, policy text, instances int, budget_per_hour int,
                active_hours text, source text, updated_at timestamptz);
            CREATE TABLE IF NOT EXISTS warmup.pings(id bigserial, function_name text, url text, planned_at timestamptz, sent_at timestamptz,
                outcome text, status_code int null, latency_ms double precision, instances int);
            """);
        await ExecuteAsync($"INSERT INTO warmup.targets VALUES ('{Warmed}', 'http://warmed:8081/_warmup', 'histogram', 1, 12, NULL, 'discovered', now())");
        var pings = new[] { (-50, "warm"), (-40, "warm"), (-30, "cold"), (-20, "warm"), (-10, "failed"), (-120, "cold") };
        foreach (var (minutes, outcome) in pings)
        {
            await ExecuteAsync(
                $"INSERT INTO warmup.pings(function_name, url, planned_at, sent_at, outcome, instances) VALUES ('{Warmed}', 'http://warmed:8081/_warmup', $1, $1, $2, 1)",
                DateTime.UtcNow.AddMinutes(minutes), outcome);
        }

        await page.ReloadAsync();
        await Assertions.Expect(headers.Filter(new LocatorFilterOptions { HasTextString = "Warm-up" })).ToHaveCountAsync(1);
        var column = await headers.AllInnerTextsAsync();
        var index = column.ToList().FindIndex(h => h.Equals("Warm-up", StringComparison.OrdinalIgnoreCase));
        var inRange = pings.Where(p => p.Item1 > -60).ToList();
        string Count(string outcome) => $"{inRange.Count(p => p.Item2 == outcome)} {outcome}";

        var warmed = Row(table, page, Warmed).Locator("td").Nth(index);
        await Assertions.Expect(warmed).ToHaveTextAsync($"histogram · {Count("warm")}, {Count("cold")}, {Count("failed")}");
        await Assertions.Expect(warmed.Locator("span").First).ToHaveAttributeAsync("title", "http://warmed:8081/_warmup");
        await Assertions.Expect(Row(table, page, Cold).Locator("td").Nth(index)).ToHaveTextAsync("–");
        await Screenshots.SaveAsync(page, "functions-warmup", output);
    }

    private static ILocator Row(ILocator table, IPage page, string function) =>
        table.Locator("tbody tr").Filter(new LocatorFilterOptions { Has = page.Locator($"td:nth-child(1) a:text-is('{function}')") });

    private async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var conn = new NpgsqlConnection(_database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        await cmd.ExecuteNonQueryAsync();
    }
}
