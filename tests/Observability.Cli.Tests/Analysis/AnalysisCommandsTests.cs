using System.Globalization;
using System.Text.Json;
using Observability.Testing;
using static Observability.Cli.Tests.Analysis.SeededCollector;

namespace Observability.Cli.Tests.Analysis;

/// <summary>obs functions, traces search, trace and coldstarts, run as real processes against a seeded collector.</summary>
public sealed class AnalysisCommandsTests(SeededCollector seeded) : IClassFixture<SeededCollector>
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private string[] Connection => ["--collector", seeded.ApiEndpoint.ToString(), "--read-key", CollectorRunner.ReadKey];

    [Fact]
    public async Task Functions_table_shows_each_version_with_its_invocations_errors_and_cold_starts()
    {
        var result = await ObsCli.RunAsync(["functions", .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var invocations = Invocations.Count;
        var errors = Invocations.Count(i => i.Error);
        var colds = Invocations.Count(i => i.Cold is not null);
        var row = Assert.Single(result.LinesWith(Function));
        Assert.Contains(invocations.ToString(Invariant), ToolResult.Cells(row));
        Assert.Contains($"{errors} ({(100.0 * errors / invocations).ToString("0.##", Invariant)}%)", row, StringComparison.Ordinal);
        Assert.Contains($"{colds} ({(100.0 * colds / invocations).ToString("0.##", Invariant)}%)", row, StringComparison.Ordinal);
        Assert.Single(result.LinesWith("cli-payments"));
    }

    [Fact]
    public async Task Functions_json_carries_the_collectors_numbers()
    {
        var result = await ObsCli.RunAsync(["functions", "--json", .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var fn = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("items").EnumerateArray().Single(f => f.GetProperty("name").GetString() == Function);
        var range = fn.GetProperty("range");
        Assert.Equal(Invocations.Count, range.GetProperty("invocations").GetDouble());
        Assert.Equal((double)Invocations.Count(i => i.Cold is not null) / Invocations.Count, range.GetProperty("coldStartRate").GetDouble(), 1e-9);
        Assert.Equal(Percentile(Invocations.Select(i => i.Ms), 0.95), range.GetProperty("p95LatencyMs").GetDouble(), 1e-6);
    }

    [Fact]
    public async Task Traces_search_finds_the_trace_by_service_errors_attribute_function_duration_and_operation()
    {
        var result = await ObsCli.RunAsync(["traces", "search", "--service", "cli-payments", "--errors", "--attr", "http.route=/card", .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var row = Assert.Single(result.LinesWith(seeded.TreeTraceId));
        Assert.Contains("cli-gateway: GET /checkout", row, StringComparison.Ordinal);
        Assert.Contains(Tree.Count.ToString(Invariant), ToolResult.Cells(row));

        var json = await ObsCli.RunAsync(["traces", "search", "--function", "cli-payments", "--min-duration", "100ms", "--json", .. Connection]);
        var trace = Assert.Single(JsonDocument.Parse(json.Stdout).RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal(seeded.TreeTraceId, trace.GetProperty("traceId").GetString());
        Assert.Equal(Tree.Count, trace.GetProperty("spanCount").GetInt32());
        Assert.Equal(Tree.Count(s => s.Error), trace.GetProperty("errorCount").GetInt32());
        Assert.Equal((long)(Tree.Max(s => s.OffsetMs + s.Ms) * 1e6), trace.GetProperty("durationNanos").GetInt64());

        var byOperation = await ObsCli.RunAsync(["traces", "search", "--operation", "render receipt", "--json", .. Connection]);
        Assert.Equal(seeded.TreeTraceId, Assert.Single(JsonDocument.Parse(byOperation.Stdout).RootElement.GetProperty("items").EnumerateArray()).GetProperty("traceId").GetString());
        var limited = await ObsCli.RunAsync(["traces", "search", "--function", Function, "--limit", "3", "--json", .. Connection]);
        Assert.Equal(3, JsonDocument.Parse(limited.Stdout).RootElement.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Traces_search_without_matches_says_what_to_do()
    {
        var result = await ObsCli.RunAsync(["traces", "search", "--service", "nobody-here", .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("No traces match", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--since", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trace_shows_each_span_under_its_parent_with_a_bar_proportional_to_its_duration()
    {
        var result = await ObsCli.RunAsync(["trace", seeded.TreeTraceId, .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = Tree.ToDictionary(s => s.Name, s => Assert.Single(result.LinesWith(s.Name + " ")));
        var order = Tree.Select(s => Array.IndexOf(result.Stdout.Split('\n'), lines[s.Name])).ToList();

        // Tree order: parents before children, siblings by start (the render receipt last, after the payments branch).
        Assert.Equal(order.Order().ToList(), order);
        int Column(TreeSpan s) => lines[s.Name].IndexOf(s.Name, StringComparison.Ordinal);
        foreach (var span in Tree.Where(s => s.Parent is not null))
        {
            var parent = Tree.Single(p => p.Name == span.Parent);
            Assert.Equal(Column(parent) + 3, Column(span));
        }

        Assert.Equal(Column(Tree[1]), Column(Tree[4]));

        // Bars on the trace's axis: a block per 1/40 of the trace, from the span's offset.
        var total = Tree.Max(s => s.OffsetMs + s.Ms);
        foreach (var span in Tree)
        {
            var bar = lines[span.Name].Split('│').Single(cell => cell.Contains('█', StringComparison.Ordinal)).Trim();
            var from = (int)Math.Floor(span.OffsetMs / total * 40);
            var length = Math.Max(1, (int)Math.Round(span.Ms / total * 40));
            Assert.Equal(new string('·', from) + new string('█', length) + new string('·', 40 - from - length), bar);
        }

        Assert.Contains("cold start", lines["POST /payments"], StringComparison.Ordinal);
        Assert.DoesNotContain("cold start", lines["GET /checkout"], StringComparison.Ordinal);
        Assert.Contains("error card declined", lines["charge card"], StringComparison.Ordinal);
        Assert.Contains("50 ms", lines["charge card"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trace_json_gives_every_span_with_its_depth()
    {
        var result = await ObsCli.RunAsync(["trace", seeded.TreeTraceId, "--json", .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var spans = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("spans").EnumerateArray().ToList();
        Assert.Equal(Tree.Count, spans.Count);
        int Depth(TreeSpan s) => s.Parent is null ? 0 : 1 + Depth(Tree.Single(p => p.Name == s.Parent));
        foreach (var span in Tree)
        {
            var json = spans.Single(s => s.GetProperty("name").GetString() == span.Name);
            Assert.Equal(Depth(span), json.GetProperty("depth").GetInt32());
            Assert.Equal((long)(span.Ms * 1e6), json.GetProperty("durationNanos").GetInt64());
        }
    }

    [Fact]
    public async Task Trace_that_the_collector_does_not_have_is_not_found_with_exit_code_1()
    {
        var result = await ObsCli.RunAsync(["trace", new string('a', 32), .. Connection]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no trace " + new string('a', 32), result.Stderr, StringComparison.Ordinal);
        Assert.Contains("obs traces search", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Coldstarts_table_and_phase_chart_show_the_seeded_cold_starts()
    {
        var result = await ObsCli.RunAsync(["coldstarts", "--function", Function, .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var colds = Invocations.Where(i => i.Cold is not null).Select(i => i.Cold!).ToList();
        var row = Assert.Single(result.LinesWith("│ " + Function));
        Assert.Contains(Invocations.Count.ToString(Invariant), ToolResult.Cells(row));
        Assert.Contains($"{(100.0 * colds.Count / Invocations.Count).ToString("0.##", Invariant)}%", row, StringComparison.Ordinal);
        Assert.Contains($"{Percentile(colds.Select(c => c.Init), 0.5).ToString(Invariant)} ms", row, StringComparison.Ordinal);
        Assert.Contains($"{Percentile(colds.Select(c => c.Init), 0.95).ToString(Invariant)} ms", row, StringComparison.Ordinal);

        // The phase chart: each phase's median (lower median of the two records).
        foreach (var (phase, values) in new[]
        {
            ("spawn", colds.Select(c => c.Spawn)), ("init", colds.Select(c => c.Init)), ("runtime_start", colds.Select(c => c.RuntimeStart)),
            ("app_init", colds.Select(c => c.Init - c.RuntimeStart)), ("first_request", colds.Select(c => c.FirstRequest)),
        })
        {
            var bar = Assert.Single(result.Stdout.Split('\n'), line => line.Trim().StartsWith(phase + " ", StringComparison.Ordinal));
            Assert.EndsWith(" " + Percentile(values, 0.5).ToString(Invariant), bar.TrimEnd(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Coldstarts_json_carries_rate_init_percentiles_and_phase_medians()
    {
        var result = await ObsCli.RunAsync(["coldstarts", "--function", Function, "--version", FunctionVersion, "--json", .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var item = Assert.Single(JsonDocument.Parse(result.Stdout).RootElement.GetProperty("items").EnumerateArray());
        var colds = Invocations.Where(i => i.Cold is not null).Select(i => i.Cold!).ToList();
        Assert.Equal((double)colds.Count / Invocations.Count, item.GetProperty("coldStartRate").GetDouble(), 1e-9);
        Assert.Equal(Percentile(colds.Select(c => c.Init), 0.99), item.GetProperty("initMs").GetProperty("p99").GetDouble(), 1e-6);
        var spawn = item.GetProperty("phases").EnumerateArray().Single(p => p.GetProperty("phase").GetString() == "spawn");
        Assert.Equal(Percentile(colds.Select(c => c.Spawn), 0.5), spawn.GetProperty("medianMs").GetDouble(), 1e-6);
    }

    [Fact]
    public async Task Coldstarts_for_a_function_without_invocations_says_what_to_do()
    {
        var result = await ObsCli.RunAsync(["coldstarts", "--function", "never-invoked", .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("No invocations in the last 1h", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("obs functions", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Coldstarts_compare_flags_the_slower_colder_version_as_a_regression()
    {
        var result = await ObsCli.RunAsync(["coldstarts", "compare", "--function", CompareFunction, .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("REGRESSION", result.Stdout, StringComparison.Ordinal);
        var p95 = ToolResult.Cells(Assert.Single(result.LinesWith("Init p95")));
        var (fromP95, toP95) = (Percentile(FromInits, 0.95), Percentile(ToInits, 0.95));
        Assert.Equal([$"{fromP95.ToString(Invariant)} ms", $"{toP95.ToString(Invariant)} ms"], p95.Skip(2).Take(2));
        Assert.StartsWith($"+{(toP95 - fromP95).ToString(Invariant)} ms", p95[4], StringComparison.Ordinal);
        var rate = ToolResult.Cells(Assert.Single(result.LinesWith("Cold-start rate")));
        var (fromRate, toRate) = ((double)FromInits.Length / CompareInvocations, (double)ToInits.Length / CompareInvocations);
        Assert.Equal([$"{fromRate * 100:0.##}%", $"{toRate * 100:0.##}%", $"+{(toRate - fromRate) * 100:0.##} points"], rate.Skip(2).Take(3));
    }

    [Fact]
    public async Task Coldstarts_compare_json_carries_the_changes_and_the_u_statistic()
    {
        var result = await ObsCli.RunAsync(["coldstarts", "compare", "--function", CompareFunction, "--from", "1", "--to", "2", "--json", .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var c = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(Percentile(ToInits, 0.95) - Percentile(FromInits, 0.95), c.GetProperty("initP95ChangeMs").GetDouble(), 1e-6);
        Assert.Equal((double)(ToInits.Length - FromInits.Length) / CompareInvocations, c.GetProperty("coldStartRateChange").GetDouble(), 1e-9);

        // U of the older version: the pairs in which its init was the slower, ties half.
        var u = FromInits.Sum(f => ToInits.Sum(t => f > t ? 1.0 : f == t ? 0.5 : 0));
        Assert.Equal(u, c.GetProperty("mannWhitney").GetProperty("statistic").GetDouble(), 1e-9);
        Assert.True(c.GetProperty("mannWhitney").GetProperty("pValue").GetDouble() < 0.05);
        Assert.True(c.GetProperty("regression").GetBoolean());
    }

    [Fact]
    public async Task Coldstarts_compare_of_an_unknown_version_is_bad_usage()
    {
        var result = await ObsCli.RunAsync(["coldstarts", "compare", "--function", CompareFunction, "--to", "9", .. Connection]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("9", result.Stderr, StringComparison.Ordinal);
    }
}
