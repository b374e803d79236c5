using System.Globalization;
using System.Text.Json;
using Npgsql;
using Observability.Dashboards.Tests.Grafana;
using Observability.Testing;
using Xunit.Abstractions;

namespace Observability.Dashboards.Tests.Prometheus;

/// <summary>
/// Every panel of every dashboard against the real thing: a real Prometheus scraping a real collector and sidecar
/// under synthetic traffic answers each PromQL query with data, with the template variables filled in as Grafana
/// fills them (All, and the first value of each); each SQL query runs on the collector's real schema and returns
/// rows; each rule in dashboards/prometheus/rules is healthy and each recording rule has data.
/// </summary>
[Collection(nameof(ScrapedSuiteGroup))]
public sealed class DashboardsOnRealPrometheusTests(ScrapedSuite suite, ITestOutputHelper output)
{
    /// <summary>Like Grafana with a 1 s scrape interval and a few minutes' range: four scrapes at least, wider for a loaded machine.</summary>
    private const string RateInterval = "30s";
    private const string Interval = "15s";

    /// <summary>Bound on waiting for data: rules evaluate and targets are scraped every second, but the machine is shared.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private static readonly IReadOnlyList<DashboardFile> Dashboards = DashboardFile.All();

    [Fact]
    public async Task Every_prometheus_panel_query_returns_data_with_all_selected_and_with_the_first_value_of_each_variable()
    {
        var failing = new List<string>();
        foreach (var dashboard in Dashboards)
        {
            foreach (var pass in new[] { "all", "first" })
            {
                var values = await ValuesAsync(dashboard, pass);
                var queries = dashboard.Queries.Where(q => q.Expr is not null).ToList();
                var missing = await MissingDataAsync(queries, values, waitForNoValue: pass == "all");
                foreach (var q in queries)
                {
                    var hasData = !missing.ContainsKey(q);
                    if (NotProvenYet.Contains(q))
                    {
                        if (hasData)
                        {
                            failing.Add($"[{pass}] {q}: has data now; take it off NotProvenYet");
                        }
                        else
                        {
                            output.WriteLine($"not proven yet [{pass}] {q}: {NotProvenYet.Queries[(q.Dashboard, q.PanelTitle, q.RefId)]}");
                        }
                    }
                    else if (!hasData && pass == "first" && q.NoValue is not null)
                    {
                        // A single function may have no series of this kind (no cold pings): the panel says what that
                        // means (noValue). With All selected it must have data like every other.
                        output.WriteLine($"no series [{pass}] {q}: the panel shows {q.NoValue}");
                    }
                    else if (!hasData)
                    {
                        failing.Add($"[{pass}] {q}: no data for {missing[q]}");
                    }
                    else
                    {
                        output.WriteLine($"data [{pass}] {q}");
                    }
                }
            }
        }

        Assert.True(failing.Count == 0, string.Join('\n', failing) + TrafficReport());
    }

    [Fact]
    public async Task Every_metric_the_panels_read_is_in_the_real_scrape_or_recorded_by_a_rule()
    {
        var expressions = Dashboards.SelectMany(d => d.Queries).Where(q => q.Expr is not null && !NotProvenYet.Contains(q)).ToList();
        var wanted = expressions.SelectMany(q => PromQl.MetricNames(q.Expr!).Select(m => (q, m))).ToList();
        var names = await Poll.UntilAsync(
            async () => (await suite.Prometheus.GetAsync("/api/v1/label/__name__/values")).EnumerateArray().Select(v => v.GetString()!).ToHashSet(StringComparer.Ordinal),
            have => wanted.All(w => have.Contains(w.m)),
            Patience,
            "every metric the panels read to be scraped or recorded").ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null, TaskScheduler.Default);
        names ??= (await suite.Prometheus.GetAsync("/api/v1/label/__name__/values")).EnumerateArray().Select(v => v.GetString()!).ToHashSet(StringComparer.Ordinal);
        var absent = wanted.Where(w => !names.Contains(w.m)).Select(w => $"{w.q}: {w.m}").Distinct().ToList();
        Assert.True(absent.Count == 0, "metrics Prometheus has neither scraped nor recorded:\n" + string.Join('\n', absent));
    }

    [Fact]
    public async Task Every_sql_panel_query_runs_on_the_collectors_schema_and_returns_rows()
    {
        var failing = new List<string>();
        foreach (var dashboard in Dashboards)
        {
            foreach (var pass in new[] { "all", "first" })
            {
                var values = await ValuesAsync(dashboard, pass);
                foreach (var q in dashboard.Queries.Where(q => q.RawSql is not null))
                {
                    var sql = values.FillSql(q.RawSql!);
                    var rows = await Poll.UntilAsync(() => CountRowsAsync(sql), n => n > 0, Patience, $"rows from {q}");
                    output.WriteLine($"{rows} rows [{pass}] {q}");
                    if (rows == 0)
                    {
                        failing.Add($"[{pass}] {q}: no rows\n{sql}");
                    }
                }
            }
        }

        Assert.True(failing.Count == 0, string.Join('\n', failing));
    }

    [Fact]
    public async Task Every_rule_is_healthy_and_every_recording_rule_evaluates_to_data()
    {
        var files = SuiteMetrics.RuleFiles();
        Assert.NotEmpty(files);
        var rules = SuiteMetrics.Rules();

        var loaded = (await suite.Prometheus.GetAsync("/api/v1/rules")).GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
        Assert.Equal(rules.Count, loaded.Count);

        // Health is known after the first evaluation; a rule that errs (bad expression, many-to-many match) says so here.
        var unhealthy = await Poll.UntilAsync(
            async () => (await suite.Prometheus.GetAsync("/api/v1/rules")).GetProperty("groups").EnumerateArray()
                .SelectMany(g => g.GetProperty("rules").EnumerateArray())
                .Where(r => r.GetProperty("health").GetString() != "ok")
                .Select(r => $"{r.GetProperty("name").GetString()}: {r.GetProperty("health").GetString()} {(r.TryGetProperty("lastError", out var e) ? e.GetString() : string.Empty)}")
                .ToList(),
            list => list.Count == 0,
            Patience,
            "every rule to be evaluated healthy").ContinueWith(t => t.IsCompletedSuccessfully ? [] : new List<string> { t.Exception!.InnerException!.Message }, TaskScheduler.Default);
        Assert.True(unhealthy.Count == 0, string.Join('\n', unhealthy));

        var failing = new List<string>();
        foreach (var group in (await suite.Prometheus.GetAsync("/api/v1/rules")).GetProperty("groups").EnumerateArray())
        {
            foreach (var rule in group.GetProperty("rules").EnumerateArray().Where(r => r.GetProperty("type").GetString() == "recording"))
            {
                // The record with this rule's own labels: each rule of a shared record name (one per SLO) on its own.
                var labels = rule.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Object
                    ? l.EnumerateObject().Select(p => $"{p.Name}=\"{p.Value.GetString()}\"")
                    : [];
                var groupName = group.GetProperty("name").GetString()!;
                var record = rule.GetProperty("name").GetString()!;
                var selector = record + "{" + string.Join(',', labels) + "}";
                var expectedMissing = NotProvenYet.Records.TryGetValue((groupName, record), out var why);
                var found = await Poll.UntilAsync(async () => HasFiniteSample(await suite.Prometheus.QueryAsync(selector)), has => has, expectedMissing ? TimeSpan.FromSeconds(5) : Patience, selector)
                    .ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
                if (expectedMissing)
                {
                    output.WriteLine($"not proven yet {groupName} {selector}: {why}");
                    if (found)
                    {
                        failing.Add($"{groupName}: {selector} has data now; take it off NotProvenYet.Records");
                    }

                    continue;
                }

                output.WriteLine($"{(found ? "data" : "NO DATA")} {groupName} {selector}");
                if (!found)
                {
                    failing.Add($"{groupName}: {selector} has no data");
                }
            }
        }

        Assert.True(failing.Count == 0, string.Join('\n', failing) + TrafficReport());
    }

    [Fact]
    public async Task Every_template_variable_resolves_to_values_from_the_real_scrape()
    {
        foreach (var dashboard in Dashboards)
        {
            var values = await ValuesAsync(dashboard, "first");
            Assert.Equal(dashboard.QueryVariables.Select(v => v.Name).Order(StringComparer.Ordinal), values.Variables.Order(StringComparer.Ordinal));
        }
    }

    /// <summary>
    /// The values Grafana would give the dashboard's variables: All (the allValue) in the "all" pass, and in the
    /// "first" pass the first value label_values returns, each variable's query filled with the ones before it.
    /// </summary>
    private async Task<TemplateValues> ValuesAsync(DashboardFile dashboard, string pass)
    {
        var values = new TemplateValues(suite.Started.AddMinutes(-1), DateTimeOffset.UtcNow, RateInterval, Interval);
        foreach (var variable in dashboard.QueryVariables)
        {
            if (pass == "all")
            {
                values.All(variable.Name);
                continue;
            }

            var m = System.Text.RegularExpressions.Regex.Match(variable.Definition, @"^label_values\((?<selector>.+), *(?<label>\w+)\)$");
            var selector = values.FillPromQl(m.Groups["selector"].Value);
            var found = await Poll.UntilAsync(() => suite.Prometheus.LabelValuesAsync(m.Groups["label"].Value, selector), v => v.Count > 0, Patience, $"values of ${variable.Name} in {dashboard.Title} ({selector})");
            values.Select(variable.Name, found[0]);
        }

        return values;
    }

    /// <summary>The queries without data (a finite sample) after polling them all until none is missing or patience runs out.</summary>
    private async Task<Dictionary<PanelQuery, string>> MissingDataAsync(IReadOnlyList<PanelQuery> queries, TemplateValues values, bool waitForNoValue)
    {
        var missing = queries.ToDictionary(q => q, q => values.FillPromQl(q.Expr!));
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            foreach (var (q, expression) in missing.ToList())
            {
                if (HasFiniteSample(await suite.Prometheus.QueryAsync(expression)))
                {
                    missing.Remove(q);
                }
            }

            // The not-proven ones are expected to stay without data: wait only for the others.
            if (missing.Keys.All(q => NotProvenYet.Contains(q) || (!waitForNoValue && q.NoValue is not null)) || DateTime.UtcNow > deadline)
            {
                return missing;
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Data as a panel shows it: at least one sample that is a number (histogram_quantile of nothing is NaN).</summary>
    private static bool HasFiniteSample(JsonElement data)
    {
        var result = data.GetProperty("result");
        IEnumerable<JsonElement> samples = data.GetProperty("resultType").GetString() switch
        {
            "vector" => result.EnumerateArray().Select(s => s.GetProperty("value")),
            "matrix" => result.EnumerateArray().SelectMany(s => s.GetProperty("values").EnumerateArray()),
            "scalar" => [result],
            _ => [],
        };
        return samples.Any(s => double.TryParse(s[1].GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v));
    }

    private async Task<int> CountRowsAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(suite.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
        }

        return rows;
    }

    private string TrafficReport()
    {
        var errors = suite.TrafficErrors;
        return errors.Count == 0 ? string.Empty : $"\ntraffic errors ({errors.Count}), first: {errors[0]}";
    }
}

[CollectionDefinition(nameof(ScrapedSuiteGroup))]
public sealed class ScrapedSuiteGroup : ICollectionFixture<ScrapedSuite>;
