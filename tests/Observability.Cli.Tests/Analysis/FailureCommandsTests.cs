using System.Text.Json;
using Observability.Testing;
using static Observability.Cli.Tests.Analysis.SeededCollector;

namespace Observability.Cli.Tests.Analysis;

/// <summary>obs failures and obs failures show, run as real processes against a collector seeded with failure snapshots.</summary>
public sealed class FailureCommandsTests(SeededCollector seeded) : IClassFixture<SeededCollector>
{
    private string[] Connection => ["--collector", seeded.ApiEndpoint.ToString(), "--read-key", CollectorRunner.ReadKey];

    private IReadOnlyList<SnapshotSeed.Snapshot> WithException => [.. seeded.Snapshots.Where(s => s.ExceptionType is not null)];

    [Fact]
    public async Task Failures_table_shows_each_group_with_its_count_and_versions()
    {
        var result = await ObsCli.RunAsync(["failures", .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var exceptionRow = ToolResult.Cells(Assert.Single(result.LinesWith(ExceptionType)));
        Assert.Contains(WithException.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), exceptionRow);
        Assert.Contains(FunctionVersion, exceptionRow);
        Assert.Contains(Function, exceptionRow);

        // The newest snapshot's message stands for the group.
        Assert.Contains(WithException.MaxBy(s => s.Time)!.Message, string.Join(" ", exceptionRow), StringComparison.Ordinal);
        var statusRow = ToolResult.Cells(Assert.Single(result.LinesWith("status_5xx")));
        Assert.Contains("1", statusRow);
        Assert.Contains("503", string.Join(" ", statusRow), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failures_json_carries_the_groups_counts_and_times()
    {
        var groups = await GroupsAsync();

        Assert.Equal(2, groups.Count);
        var exception = groups.Single(g => g.GetProperty("signature").TryGetProperty("exceptionType", out _));
        Assert.Equal(WithException.Count, exception.GetProperty("count").GetInt64());
        Assert.Equal(WithException.Min(s => s.Time), exception.GetProperty("firstSeen").GetDateTime().ToUniversalTime(), TimeSpan.FromMilliseconds(1));
        Assert.Equal(WithException.Max(s => s.Time), exception.GetProperty("lastSeen").GetDateTime().ToUniversalTime(), TimeSpan.FromMilliseconds(1));
        Assert.Equal(WithException.MaxBy(s => s.Time)!.TraceHex, exception.GetProperty("sampleTraceId").GetString());
    }

    [Fact]
    public async Task Failures_show_of_a_snapshot_prints_its_exception_stack_request_response_logs_and_process()
    {
        var newest = WithException.MaxBy(s => s.Time)!;
        var id = (await GroupsAsync()).Single(g => g.GetProperty("sampleTraceId").GetString() == newest.TraceHex).GetProperty("latestSnapshotId").GetString()!;

        var result = await ObsCli.RunAsync(["failures", "show", id, .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var output = result.Stdout;
        Assert.Contains($"{ExceptionType}: {newest.Message}", output, StringComparison.Ordinal);
        foreach (var frame in newest.Stack!.Split('\n'))
        {
            Assert.Contains(frame.Trim(), output, StringComparison.Ordinal);
        }

        Assert.Contains(newest.Url, output, StringComparison.Ordinal);
        Assert.Contains("status", Assert.Single(result.LinesWith(" status ", newest.Status.ToString(System.Globalization.CultureInfo.InvariantCulture))), StringComparison.Ordinal);
        foreach (var line in SnapshotSeed.LogLines)
        {
            Assert.Single(result.LinesWith(line));
        }

        Assert.Single(result.LinesWith("pid", "4242"));
        Assert.Single(result.LinesWith("DB_PASSWORD", "***"));
        Assert.Contains("obs trace " + newest.TraceHex, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failures_show_of_a_fingerprint_prints_the_group_its_snapshots_and_the_newest_whole()
    {
        var group = (await GroupsAsync()).Single(g => g.GetProperty("signature").TryGetProperty("exceptionType", out _));
        var fingerprint = group.GetProperty("fingerprint").GetString()!;

        var result = await ObsCli.RunAsync(["failures", "show", fingerprint, .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Single(result.LinesWith("Failure group", fingerprint));
        foreach (var snapshot in WithException)
        {
            Assert.Single(result.LinesWith(snapshot.TraceHex, "│"));
        }

        Assert.Contains("The newest snapshot", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(WithException.MaxBy(s => s.Time)!.Url, result.Stdout, StringComparison.Ordinal);

        var json = await ObsCli.RunAsync(["failures", "show", fingerprint, "--json", .. Connection]);
        var root = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(WithException.Count, root.GetProperty("failure").GetProperty("group").GetProperty("count").GetInt64());
        Assert.Equal(WithException.Count, root.GetProperty("failure").GetProperty("items").GetArrayLength());
        Assert.Equal(group.GetProperty("latestSnapshotId").GetString(), root.GetProperty("latestSnapshot").GetProperty("summary").GetProperty("id").GetString());
    }

    [Fact]
    public async Task Failures_show_of_an_unknown_snapshot_is_not_found_with_exit_code_1()
    {
        var result = await ObsCli.RunAsync(["failures", "show", new string('c', 32), .. Connection]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no failure snapshot " + new string('c', 32), result.Stderr, StringComparison.Ordinal);
        Assert.Contains("obs failures", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failures_of_a_function_without_any_say_so()
    {
        var result = await ObsCli.RunAsync(["failures", "--function", "never-failed", .. Connection]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("No failure snapshots in the last 24h", result.Stdout, StringComparison.Ordinal);
    }

    private async Task<List<JsonElement>> GroupsAsync()
    {
        var result = await ObsCli.RunAsync(["failures", "--function", Function, "--json", .. Connection]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return [.. JsonDocument.Parse(result.Stdout).RootElement.GetProperty("items").EnumerateArray()];
    }
}
