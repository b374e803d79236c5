using System.Text.RegularExpressions;
using Observability.Testing;
using YamlDotNet.RepresentationModel;

namespace Observability.Dashboards.Tests.Grafana;

/// <summary>
/// The metric names the suite's code registers (prometheus-net Create* calls in src/ and agents/), with the
/// series a histogram exposes, and the records of the Prometheus rules in dashboards/prometheus/rules.
/// The real-Prometheus test checks the same names against what a real scrape returns.
/// </summary>
internal static partial class SuiteMetrics
{
    /// <summary>Series Prometheus makes itself: a target's up and the alerts' state.</summary>
    public static readonly IReadOnlySet<string> PrometheusOwn = new HashSet<string>(StringComparer.Ordinal) { "up", "ALERTS", "ALERTS_FOR_STATE" };

    public static IReadOnlySet<string> Registered()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var folder in new[] { "src", "agents" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryFiles.Root, folder), "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal)))
            {
                foreach (Match m in Registration().Matches(File.ReadAllText(file)))
                {
                    var name = m.Groups["name"].Value;
                    names.Add(name);
                    if (m.Groups["kind"].Value is "Histogram" or "Summary")
                    {
                        names.Add(name + "_sum");
                        names.Add(name + "_count");
                    }

                    if (m.Groups["kind"].Value == "Histogram")
                    {
                        names.Add(name + "_bucket");
                    }
                }
            }
        }

        return names;
    }

    /// <summary>The rule files' recording rules (record names) and alerts (alert names), file by file.</summary>
    public static IReadOnlyList<(string File, string? Record, string? Alert, string Expr)> Rules()
    {
        var result = new List<(string, string?, string?, string)>();
        if (!Directory.Exists(DashboardFiles.PrometheusRules))
        {
            return result;
        }

        foreach (var file in RuleFiles())
        {
            var yaml = new YamlStream();
            using (var reader = new StreamReader(file))
            {
                yaml.Load(reader);
            }

            if (yaml.Documents.Count == 0)
            {
                continue;
            }

            var root = (YamlMappingNode)yaml.Documents[0].RootNode;
            foreach (var group in ((YamlSequenceNode)root["groups"]).Children.Cast<YamlMappingNode>())
            {
                if (!group.Children.TryGetValue(new YamlScalarNode("rules"), out var rules) || rules is not YamlSequenceNode list)
                {
                    continue;
                }

                foreach (var rule in list.Children.Cast<YamlMappingNode>())
                {
                    string? Get(string key) => rule.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlScalarNode)v).Value : null;
                    result.Add((file, Get("record"), Get("alert"), Get("expr") ?? string.Empty));
                }
            }
        }

        return result;
    }

    /// <summary>The rule files Prometheus loads (promtool's unit-test files, *.test.yml, are not rules).</summary>
    public static IReadOnlyList<string> RuleFiles() => !Directory.Exists(DashboardFiles.PrometheusRules)
        ? []
        : [.. Directory.EnumerateFiles(DashboardFiles.PrometheusRules, "*", SearchOption.AllDirectories)
            .Where(f => (f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal))
                && !f.Contains(".test.", StringComparison.Ordinal) && !f.Contains("_test.", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}tests{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];

    public static IReadOnlySet<string> Records() =>
        Rules().Where(r => r.Record is not null).Select(r => r.Record!).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex("Create(?<kind>Counter|Gauge|Histogram|Summary)\\(\\s*\"(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\"")]
    private static partial Regex Registration();
}
