using System.Text.RegularExpressions;

namespace Observability.Dashboards.Tests;

/// <summary>
/// The Prometheus rules in dashboards/prometheus/rules, generated and hand-written, checked by promtool and
/// proven by its unit tests (dashboards/prometheus/tests): each alert fires under the series it is for, at the
/// right time, and stays silent under the others.
/// </summary>
public sealed partial class RulesTests
{
    public static TheoryData<string> RuleFiles() => [.. Directory.EnumerateFiles(DashboardFiles.Of("prometheus", "rules"), "*.yml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> TestFiles() => [.. Directory.EnumerateFiles(DashboardFiles.Of("prometheus", "tests"), "*.yml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(RuleFiles))]
    public async Task Rules_file_passes_promtool_check_rules(string file)
    {
        var result = await RulesTools.RunAsync("promtool", "check", "rules", DashboardFiles.Of("prometheus", "rules", file));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("SUCCESS", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestFiles))]
    public async Task Promtool_unit_tests_pass(string file)
    {
        var result = await RulesTools.RunAsync("promtool", "test", "rules", DashboardFiles.Of("prometheus", "tests", file));
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public void Every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_silent()
    {
        var alerts = Directory.EnumerateFiles(DashboardFiles.Of("prometheus", "rules"), "*.yml")
            .SelectMany(f => AlertName().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);
        var firing = new HashSet<string>(StringComparer.Ordinal);
        var silent = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(DashboardFiles.Of("prometheus", "tests"), "*.yml"))
        {
            // Each alert_rule_test case starts at its eval_time; what follows up to the next one is its expectation.
            var cases = File.ReadAllText(file).Split("eval_time:");
            foreach (var @case in cases.Skip(1))
            {
                if (TestedAlert().Match(@case) is { Success: true } m)
                {
                    (EmptyExpectation().IsMatch(@case) ? silent : firing).Add(m.Groups[1].Value);
                }
            }
        }

        Assert.NotEmpty(alerts);
        Assert.Empty(alerts.Except(firing).Order(StringComparer.Ordinal));
        Assert.Empty(alerts.Except(silent).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_page_alert_tuned_too_eagerly_fails_the_short_blip_test()
    {
        // The unit tests must be able to fail: the 14.4x page with a 5x long-window threshold pages on a 2-minute blip.
        var copy = Directory.CreateTempSubdirectory("obs-rules-");
        try
        {
            CopyFolder(DashboardFiles.Of("prometheus", "rules"), Path.Combine(copy.FullName, "rules"));
            CopyFolder(DashboardFiles.Of("prometheus", "tests"), Path.Combine(copy.FullName, "tests"));
            var rules = Path.Combine(copy.FullName, "rules", "slo-hello-availability.yml");
            var text = await File.ReadAllTextAsync(rules);
            Assert.Contains("< 2592000 / 14.4", text, StringComparison.Ordinal);
            await File.WriteAllTextAsync(rules, text.Replace("< 2592000 / 14.4", "< 2592000 / 5", StringComparison.Ordinal));

            var result = await RulesTools.RunAsync("promtool", "test", "rules", Path.Combine(copy.FullName, "tests", "slo-burn-rate.yml"));

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("time: 10h6m", result.Stdout + result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Example_prometheus_config_passes_promtool_check_config_with_the_three_scrape_jobs()
    {
        var copy = Directory.CreateTempSubdirectory("obs-prometheus-");
        try
        {
            CopyFolder(DashboardFiles.Of("prometheus", "rules"), Path.Combine(copy.FullName, "rules"));
            var key = Path.Combine(copy.FullName, "obs-metrics-key");
            await File.WriteAllTextAsync(key, "m_example");
            // promtool checks that the key file exists: point the example's path at one that does.
            var config = (await File.ReadAllTextAsync(DashboardFiles.Of("prometheus", "prometheus.yml")))
                .Replace("/etc/prometheus/obs-metrics-key", key, StringComparison.Ordinal);
            var path = Path.Combine(copy.FullName, "prometheus.yml");
            await File.WriteAllTextAsync(path, config);

            var result = await RulesTools.RunAsync("promtool", "check", "config", path);

            Assert.True(result.ExitCode == 0, result.ToString());
            foreach (var job in new[] { "obs-collector", "obs-sidecar", "obs-warmup" })
            {
                Assert.Contains($"- job_name: {job}\n", config, StringComparison.Ordinal);
            }
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    [GeneratedRegex(@"^\s*- alert: (\S+)", RegexOptions.Multiline)]
    private static partial Regex AlertName();

    [GeneratedRegex(@"alertname: (\w+)")]
    private static partial Regex TestedAlert();

    [GeneratedRegex(@"exp_alerts: \[\]")]
    private static partial Regex EmptyExpectation();
}
