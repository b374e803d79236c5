using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Observability.Dashboards.Tests.Grafana;

/// <summary>
/// The Grafana dashboards and provisioning, checked without Grafana (it cannot be installed here): the
/// schema's shape, ids, data sources, variables, links and the metrics the queries read.
/// </summary>
public sealed partial class DashboardLintTests
{
    private static readonly string[] ContractedUids = ["obs-coldstarts", "obs-error-budgets", "obs-functions", "obs-suite-health", "obs-warmup"];
    private static readonly HashSet<string> PanelTypes = new(StringComparer.Ordinal) { "row", "timeseries", "stat", "table", "heatmap", "bargauge", "text" };

    private static readonly IReadOnlyList<DashboardFile> Dashboards = DashboardFile.All();

    [Fact]
    public void The_dashboards_are_the_five_of_the_contract_with_unique_uids()
    {
        Assert.Equal(ContractedUids, Dashboards.Select(d => d.Uid).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void Every_dashboard_is_in_the_current_schema_with_known_panel_types_and_a_place_on_the_grid()
    {
        foreach (var d in Dashboards)
        {
            Assert.True((int?)d.Json["schemaVersion"] >= 39, $"{d.FileName}: schemaVersion must be 39 or later");
            Assert.False(string.IsNullOrWhiteSpace(d.Title), $"{d.FileName}: no title");
            Assert.Contains("obs", d.Json["tags"]!.AsArray().Select(t => (string?)t));
            foreach (var panel in d.Panels)
            {
                var type = (string?)panel["type"];
                Assert.True(type is not null && PanelTypes.Contains(type), $"{d.FileName}: panel {(string?)panel["title"]} has type {type}");
                var grid = panel["gridPos"]!;
                Assert.True((int)grid["w"]! is > 0 and <= 24 && (int)grid["x"]! + (int)grid["w"]! <= 24 && (int)grid["h"]! > 0, $"{d.FileName}: panel {(string?)panel["title"]} is off the grid");
                if (type is not ("row" or "text"))
                {
                    Assert.NotEmpty(panel["targets"]!.AsArray());
                    Assert.False(string.IsNullOrWhiteSpace((string?)panel["description"]), $"{d.FileName}: panel {(string?)panel["title"]} says nothing about what it shows");
                }
            }
        }
    }

    [Fact]
    public void Panel_ids_are_unique_within_each_dashboard()
    {
        foreach (var d in Dashboards)
        {
            var ids = d.Panels.Select(p => (int?)p["id"]).ToList();
            Assert.DoesNotContain(null, ids);
            var repeated = ids.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            Assert.True(repeated.Count == 0, $"{d.FileName}: panel ids used twice: {string.Join(", ", repeated)}");
        }
    }

    [Fact]
    public void Every_dashboard_has_a_prometheus_data_source_variable_and_multi_value_function_and_version_variables()
    {
        foreach (var d in Dashboards)
        {
            var variables = d.TemplateVariables.ToDictionary(v => (string)v["name"]!, StringComparer.Ordinal);
            var ds = variables["datasource"];
            Assert.Equal(("datasource", "prometheus"), ((string?)ds["type"], (string?)ds["query"]));
            foreach (var name in new[] { "function", "version" })
            {
                Assert.True(variables.TryGetValue(name, out var v), $"{d.FileName}: no {name} variable");
                Assert.Equal("query", (string?)v["type"]);
                Assert.True((bool?)v["multi"] == true && (bool?)v["includeAll"] == true, $"{d.FileName}: {name} must allow several values and All");
                Assert.Equal(".*", (string?)v["allValue"]);
                Assert.Matches(@"^label_values\(.+, " + name + @"\)$", (string?)v["definition"]);
                Assert.Equal("${datasource}", (string?)v["datasource"]!["uid"]);
            }
        }
    }

    [Fact]
    public void Every_data_source_reference_resolves_to_a_provisioned_data_source_or_the_variable()
    {
        var provisioned = ProvisionedDataSources.All().ToDictionary(p => p.Uid, StringComparer.Ordinal);
        Assert.Contains(provisioned.Values, p => p.Type == "prometheus");
        foreach (var d in Dashboards)
        {
            foreach (var (where, reference) in d.DataSourceReferences())
            {
                if (reference.Uid == "-- Grafana --")
                {
                    continue; // the built-in annotations source
                }

                if (reference.Uid == "${datasource}")
                {
                    Assert.True(reference.Type is null or "prometheus", $"{d.FileName} {where}: the variable holds Prometheus data sources, not {reference.Type}");
                    continue;
                }

                Assert.True(reference.Uid is not null && provisioned.ContainsKey(reference.Uid), $"{d.FileName} {where}: data source uid {reference.Uid} is not provisioned");
                Assert.True(reference.Type is null || reference.Type == provisioned[reference.Uid!].Type, $"{d.FileName} {where}: {reference.Uid} is a {provisioned[reference.Uid!].Type}, not a {reference.Type}");
            }
        }
    }

    [Fact]
    public void Every_variable_a_query_or_link_uses_is_defined_by_its_dashboard_or_by_grafana()
    {
        foreach (var d in Dashboards)
        {
            var defined = d.TemplateVariables.Select(v => (string)v["name"]!).ToHashSet(StringComparer.Ordinal);
            var text = d.Json["panels"]!.ToJsonString() + d.Json["templating"]!.ToJsonString();
            var unknown = TemplateValues.ReferencedIn(text).Where(n => !defined.Contains(n) && !TemplateValues.BuiltIn.Contains(n)).ToList();
            Assert.True(unknown.Count == 0, $"{d.FileName}: undefined variables {string.Join(", ", unknown)}");
        }
    }

    [Fact]
    public void Sql_queries_read_variables_as_regexes_so_that_all_and_several_values_work()
    {
        foreach (var q in Dashboards.SelectMany(d => d.Queries).Where(q => q.RawSql is not null))
        {
            foreach (Match m in SqlVariable().Matches(q.RawSql!))
            {
                Assert.True(m.Groups["format"].Value == ":regex", $"{q}: ${m.Value} must be written ${{name:regex}} (All is .*, several values a|b)");
            }
        }
    }

    [Fact]
    public void Every_metric_a_panel_or_variable_reads_is_one_the_suite_exports_or_records()
    {
        var known = SuiteMetrics.Registered().Union(SuiteMetrics.Records()).Union(SuiteMetrics.PrometheusOwn).ToHashSet(StringComparer.Ordinal);
        var expressions = Dashboards.SelectMany(d => d.Queries.Where(q => q.Expr is not null).Select(q => (Where: q.ToString(), Expr: q.Expr!))
            .Concat(d.QueryVariables.Select(v => (Where: $"{d.Title} / ${v.Name}", Expr: LabelValuesSelector(v.Definition)))));
        var unknown = expressions.SelectMany(e => PromQl.MetricNames(e.Expr).Where(m => !known.Contains(m)).Select(m => $"{e.Where}: {m}")).ToList();
        Assert.True(unknown.Count == 0, "metrics no part of the suite exports or records:\n" + string.Join('\n', unknown));
    }

    [Fact]
    public void Metric_names_are_read_out_of_expressions_without_functions_labels_or_durations()
    {
        Assert.Equal(
            ["faas_errors_total", "faas_invocations_total"],
            PromQl.MetricNames("sum by (function, le) (rate(faas_errors_total{function=~\"$function\", x=\"a{b}\"}[$__rate_interval])) / on (slo) group_left () sum(rate(faas_invocations_total[5m] offset 1h)) > 1e-3").Order(StringComparer.Ordinal));
        Assert.Equal(["slo:sli_error:ratio_rate5m"], PromQl.MetricNames("histogram_quantile(0.95, slo:sli_error:ratio_rate5m)"));
    }

    [Fact]
    public void Links_between_dashboards_point_at_dashboards_that_exist()
    {
        var uids = Dashboards.Select(d => d.Uid).ToHashSet(StringComparer.Ordinal);
        foreach (var d in Dashboards)
        {
            var text = d.Json.ToJsonString();
            foreach (Match m in DashboardUrl().Matches(text))
            {
                Assert.True(uids.Contains(m.Groups[1].Value), $"{d.FileName}: link to /d/{m.Groups[1].Value}, no such dashboard");
            }

            var links = d.Json["links"]!.AsArray().OfType<JsonObject>().ToList();
            Assert.Contains(links, l => (string?)l["type"] == "dashboards" && l["tags"]!.AsArray().Any(t => (string?)t == "obs") && (bool?)l["includeVars"] == true);
        }

        // Each dashboard is reached from another one by a link of its own (the tag dropdown aside).
        var linked = Dashboards.SelectMany(d => DashboardUrl().Matches(d.Json["panels"]!.ToJsonString()).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        Assert.Superset(new HashSet<string>(["obs-coldstarts", "obs-error-budgets"], StringComparer.Ordinal), linked);
    }

    [Fact]
    public void Slowest_cold_starts_link_their_trace_to_the_provisioned_jaeger_data_source()
    {
        var coldStarts = Dashboards.Single(d => d.Uid == "obs-coldstarts");
        var table = coldStarts.Panels.Single(p => (string?)p["title"] == "Slowest recent cold starts");
        Assert.Equal("obs-postgres", (string?)table["datasource"]!["uid"]);
        var traceLinks = table["fieldConfig"]!["overrides"]!.AsArray()
            .Where(o => (string?)o!["matcher"]!["options"] == "trace_id")
            .SelectMany(o => o!["properties"]!.AsArray()).Where(p => (string?)p!["id"] == "links").SelectMany(p => p!["value"]!.AsArray()).ToList();
        Assert.Contains(traceLinks, l => (string?)l!["internal"]?["datasourceUid"] == "obs-jaeger" && (string?)l!["internal"]!["query"]!["query"] == "${__value.raw}");
        Assert.Equal("jaeger", ProvisionedDataSources.All().Single(p => p.Uid == "obs-jaeger").Type);
    }

    [Fact]
    public void Provisioned_urls_and_secrets_come_from_the_environment()
    {
        var sources = ProvisionedDataSources.All();
        Assert.Equal(["grafana-postgresql-datasource", "jaeger", "prometheus"], sources.Select(s => s.Type).Order(StringComparer.Ordinal));
        foreach (var s in sources)
        {
            Assert.Matches(@"^\$\{OBS_[A-Z_]+\}", s.Url);
            foreach (var (key, value) in s.SecureJsonData)
            {
                Assert.True(value.Contains("${OBS_", StringComparison.Ordinal), $"{s.Name}: secure setting {key} must come from an environment variable");
            }
        }

        var jaeger = sources.Single(s => s.Type == "jaeger");
        Assert.EndsWith("/jaeger", jaeger.Url, StringComparison.Ordinal);
        Assert.Equal("Authorization", jaeger.JsonData["httpHeaderName1"]);
        Assert.Equal("Bearer ${OBS_READ_KEY}", jaeger.SecureJsonData["httpHeaderValue1"]);

        var providers = File.ReadAllText(Directory.GetFiles(DashboardFiles.GrafanaDashboardProviders).Single());
        Assert.Contains("${OBS_DASHBOARDS_PATH}", providers, StringComparison.Ordinal);
    }

    /// <summary>label_values(selector, label): the selector, as a PromQL expression of its own.</summary>
    private static string LabelValuesSelector(string definition)
    {
        var m = Regex.Match(definition, @"^label_values\((?<selector>.+), *\w+\)$");
        Assert.True(m.Success, $"variable query {definition} is not label_values(selector, label)");
        return m.Groups["selector"].Value;
    }

    [GeneratedRegex(@"\$\{?(?!__)(?<name>\w+)(?<format>:\w+)?\}?")]
    private static partial Regex SqlVariable();

    [GeneratedRegex(@"/d/([\w-]+)")]
    private static partial Regex DashboardUrl();
}
