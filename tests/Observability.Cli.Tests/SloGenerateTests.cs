using System.Globalization;
using System.Text.Json;
using Observability.Testing;

namespace Observability.Cli.Tests;

/// <summary>`obs slo generate` and `--check`, run as a process on the repository's specs and on scratch copies of them.</summary>
public sealed class SloGenerateTests
{
    [Fact]
    public async Task Check_passes_on_the_committed_rules()
    {
        var result = await ObsCli.RunInAsync(RepositoryFiles.Root, null, "slo", "generate", "--check", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var files = Changes(result);
        var specs = Directory.EnumerateFiles(Path.Combine(RepositoryFiles.Root, "dashboards", "slo"), "*.yaml").Count();
        Assert.Equal(specs, files.Count);
        Assert.All(files, f => Assert.Equal("unchanged", f.Change));
    }

    [Fact]
    public async Task Check_fails_after_a_spec_changes_and_generate_brings_the_rules_in_line()
    {
        using var scratch = new ScratchDashboards();
        var spec = Path.Combine(scratch.Specs, "hello-availability.yaml");
        await File.WriteAllTextAsync(spec, (await File.ReadAllTextAsync(spec)).Replace("objective: 99.9", "objective: 99.5", StringComparison.Ordinal));
        var handWritten = await File.ReadAllTextAsync(Path.Combine(scratch.Rules, "coldstarts.yml"));

        var check = await ObsCli.RunInAsync(scratch.Root, null, "slo", "generate", "--check", "--json", "--specs", scratch.Specs, "--output", scratch.Rules);

        Assert.True(check.ExitCode == 1, check.ToString());
        var changed = Changes(check).Where(c => c.Change != "unchanged").ToList();
        var only = Assert.Single(changed);
        Assert.Equal(("slo-hello-availability.yml", "changed"), (only.File, only.Change));
        Assert.StartsWith("line ", only.Detail, StringComparison.Ordinal);

        var generate = await ObsCli.RunInAsync(scratch.Root, null, "slo", "generate", "--specs", scratch.Specs, "--output", scratch.Rules);
        Assert.True(generate.ExitCode == 0, generate.ToString());
        var again = await ObsCli.RunInAsync(scratch.Root, null, "slo", "generate", "--check", "--specs", scratch.Specs, "--output", scratch.Rules);
        Assert.True(again.ExitCode == 0, again.ToString());

        // The new budget is 1 - 99.5% of invocations; hand-written rules beside the generated ones are left alone.
        var budget = (1m - (99.5m / 100m)).ToString(CultureInfo.InvariantCulture);
        var rules = await File.ReadAllTextAsync(Path.Combine(scratch.Rules, "slo-hello-availability.yml"));
        Assert.Contains($"vector({budget})", rules, StringComparison.Ordinal);
        Assert.Equal(handWritten, await File.ReadAllTextAsync(Path.Combine(scratch.Rules, "coldstarts.yml")));
    }

    [Fact]
    public async Task A_rules_file_no_spec_generates_fails_the_check_and_generate_deletes_it()
    {
        using var scratch = new ScratchDashboards();
        File.Delete(Path.Combine(scratch.Specs, "node-hello-availability.yaml"));

        var check = await ObsCli.RunInAsync(scratch.Root, null, "slo", "generate", "--check", "--json", "--specs", scratch.Specs, "--output", scratch.Rules);

        Assert.True(check.ExitCode == 1, check.ToString());
        Assert.Contains(Changes(check), c => c is { File: "slo-node-hello-availability.yml", Change: "stale" });
        var generate = await ObsCli.RunInAsync(scratch.Root, null, "slo", "generate", "--specs", scratch.Specs, "--output", scratch.Rules);
        Assert.True(generate.ExitCode == 0, generate.ToString());
        Assert.False(File.Exists(Path.Combine(scratch.Rules, "slo-node-hello-availability.yml")));
        Assert.True(File.Exists(Path.Combine(scratch.Rules, "suite-health.yml")));
    }

    [Fact]
    public async Task The_rules_of_a_7_day_spec_use_its_window_and_budget()
    {
        using var scratch = new ScratchDashboards();
        await File.WriteAllTextAsync(Path.Combine(scratch.Specs, "weekly.yaml"), "name: weekly\nfunction: checkout\nobjective: 99\nwindow: 7d\nsli: availability\n");

        var generate = await ObsCli.RunInAsync(scratch.Root, null, "slo", "generate", "--specs", scratch.Specs, "--output", scratch.Rules);

        Assert.True(generate.ExitCode == 0, generate.ToString());
        var rules = await File.ReadAllTextAsync(Path.Combine(scratch.Rules, "slo-weekly.yml"));
        var windowSeconds = (7 * 24 * 3600).ToString(CultureInfo.InvariantCulture);
        Assert.Contains("[7d]))", rules, StringComparison.Ordinal);
        Assert.Contains("window: 7d", rules, StringComparison.Ordinal);
        Assert.Contains($"({windowSeconds} * 0.01) / slo:sli_error:ratio_rate1h{{slo=\"weekly\"}} < {windowSeconds} / 14.4", rules, StringComparison.Ordinal);
        Assert.Contains("the 7-day error budget is gone in", rules, StringComparison.Ordinal);
        Assert.Contains("function=\"checkout\"", rules, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_whole_second_threshold_counts_buckets_written_le_1_and_le_1_0()
    {
        // prometheus-net writes le="1"; an OpenMetrics scrape or Prometheus 3 writes le="1.0". The rule must read both.
        using var scratch = new ScratchDashboards();
        await File.WriteAllTextAsync(Path.Combine(scratch.Specs, "whole.yaml"), "name: whole\nfunction: f\nobjective: 99\nwindow: 7d\nsli: latency\nthreshold: 1\n");
        var generate = await ObsCli.RunInAsync(scratch.Root, null, "slo", "generate", "--specs", scratch.Specs, "--output", scratch.Rules);
        Assert.True(generate.ExitCode == 0, generate.ToString());

        // Version a: 30 of 40 invocations a minute within 1 s (le="1"); version b: 10 of 20 (le="1.0").
        const int goodA = 30, totalA = 40, goodB = 10, totalB = 20;
        var expected = Math.Round(1 - ((double)(goodA + goodB) / (totalA + totalB)), 4).ToString(CultureInfo.InvariantCulture);
        var test = Path.Combine(scratch.Root, "whole-test.yml");
        await File.WriteAllTextAsync(test, $$"""
            rule_files: [rules/slo-whole.yml]
            evaluation_interval: 1m
            tests:
            - interval: 1m
              input_series:
              - {series: 'faas_invoke_duration_seconds_bucket{function="f",version="a",le="1"}', values: '0+{{goodA}}x20'}
              - {series: 'faas_invoke_duration_seconds_count{function="f",version="a"}', values: '0+{{totalA}}x20'}
              - {series: 'faas_invoke_duration_seconds_bucket{function="f",version="b",le="1.0"}', values: '0+{{goodB}}x20'}
              - {series: 'faas_invoke_duration_seconds_count{function="f",version="b"}', values: '0+{{totalB}}x20'}
              promql_expr_test:
              - expr: round(slo:sli_error:ratio_rate5m{slo="whole"}, 0.0001)
                eval_time: 10m
                exp_samples:
                - {labels: '{slo="whole", function="f", sli="latency"}', value: {{expected}}}
            """);

        var promtool = await ToolProcess.RunAsync("promtool", ["test", "rules", test], scratch.Root);

        Assert.True(promtool.ExitCode == 0, promtool.ToString());
    }

    [Fact]
    public async Task Invalid_specs_are_refused_with_every_problem_naming_its_file_and_field()
    {
        using var scratch = new ScratchDashboards();
        await File.WriteAllTextAsync(Path.Combine(scratch.Specs, "slow.yaml"), "name: slow\nfunction: hello\nobjective: 99\nsli: latency\nthreshold: 0.3\n");
        await File.WriteAllTextAsync(Path.Combine(scratch.Specs, "fortnight.yaml"), "name: fortnight\nfunction: hello\nobjective: 99\nwindow: 14d\nsli: availability\n");
        await File.WriteAllTextAsync(Path.Combine(scratch.Specs, "typo.yaml"), "name: typo\nfunction: hello\nobjectve: 99\nsli: availability\n");
        await File.WriteAllTextAsync(Path.Combine(scratch.Specs, "over.yaml"), "name: over\nfunction: hello\nobjective: 100\nsli: availability\n");
        await File.WriteAllTextAsync(Path.Combine(scratch.Specs, "again.yaml"), "name: hello-latency\nfunction: hello\nobjective: 99\nsli: availability\n");
        var before = Directory.EnumerateFiles(scratch.Rules).ToDictionary(f => f, File.ReadAllText);

        var result = await ObsCli.RunInAsync(scratch.Root, null, "slo", "generate", "--specs", scratch.Specs, "--output", scratch.Rules);

        Assert.True(result.ExitCode == 2, result.ToString());
        var errors = result.Stderr;
        Assert.Contains("slow.yaml: threshold: 0.3 s is not a bucket boundary of faas_invoke_duration_seconds", errors, StringComparison.Ordinal);
        Assert.Contains("0.25, 0.5", errors, StringComparison.Ordinal);
        Assert.Contains("fortnight.yaml: window: \"14d\" is not allowed; use one of 7d, 28d, 30d", errors, StringComparison.Ordinal);
        Assert.Contains("typo.yaml: line 3: unknown field \"objectve\"", errors, StringComparison.Ordinal);
        Assert.Contains("over.yaml: objective: \"100\" is not a percentage above 0 and below 100", errors, StringComparison.Ordinal);
        Assert.Contains("name: \"hello-latency\" is used by", errors, StringComparison.Ordinal);
        // Nothing is written while any spec is invalid.
        Assert.Equal(before, Directory.EnumerateFiles(scratch.Rules).ToDictionary(f => f, File.ReadAllText));
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static List<FileChange> Changes(ToolResult result) => JsonSerializer.Deserialize<List<FileChange>>(result.Stdout, Json)!;

    private sealed record FileChange(string File, string Change, string? Detail);
}
