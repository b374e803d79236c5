using System.Text.Json;
using Observability.Testing;
using Xunit.Abstractions;

namespace Observability.Cli.Tests.Analysis;

/// <summary>--limit, --cursor, --all and --max of the list commands, run as real processes against a seeded collector.</summary>
public sealed class PagingCommandsTests(PagedCollector seeded, ITestOutputHelper output) : IClassFixture<PagedCollector>
{
    private string[] Connection => ["--collector", seeded.ApiEndpoint.ToString(), "--read-key", CollectorRunner.ReadKey];

    [Fact]
    public async Task Traces_search_with_limit_and_cursor_gives_the_second_page_exactly()
    {
        var first = Json(await RunOkAsync(["traces", "search", "--service", PagedCollector.Service, "--limit", "3", "--json"]));
        Assert.Equal(seeded.TraceIds.Take(3), Ids(first));
        var cursor = first.GetProperty("next").GetString();
        Assert.False(string.IsNullOrEmpty(cursor));

        var second = Json(await RunOkAsync(["traces", "search", "--service", PagedCollector.Service, "--limit", "3", "--cursor", cursor!, "--json"]));
        Assert.Equal(seeded.TraceIds.Skip(3).Take(3), Ids(second));

        // The table says how many it shows and how to go on, with the same cursor.
        var human = await RunOkAsync(["traces", "search", "--service", PagedCollector.Service, "--limit", "3"]);
        Assert.Equal(3, seeded.TraceIds.Take(3).Count(id => human.Stdout.Contains(id, StringComparison.Ordinal)));
        Assert.DoesNotContain(seeded.TraceIds[3], human.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Showing 3 traces; more: run again with --cursor {cursor} (or --all).", Flat(human.Stdout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Traces_search_all_gives_every_trace_once_in_order_and_next_null()
    {
        var all = Json(await RunOkAsync(["traces", "search", "--service", PagedCollector.Service, "--all", "--limit", "2", "--json"]));

        Assert.Equal(seeded.TraceIds, Ids(all));
        Assert.Equal(JsonValueKind.Null, all.GetProperty("next").ValueKind);

        var human = await RunOkAsync(["traces", "search", "--service", PagedCollector.Service, "--all", "--limit", "2"]);
        Assert.All(seeded.TraceIds, id => Assert.Single(human.LinesWith(id)));
        Assert.Contains($"All {seeded.TraceIds.Count} traces.", Flat(human.Stdout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task All_stops_at_max_and_its_next_continues_where_it_stopped()
    {
        const int Max = 5;
        var capped = Json(await RunOkAsync(["traces", "search", "--service", PagedCollector.Service, "--all", "--limit", "2", "--max", $"{Max}", "--json"]));
        Assert.Equal(seeded.TraceIds.Take(Max), Ids(capped));
        var cursor = capped.GetProperty("next").GetString()!;

        var rest = Json(await RunOkAsync(["traces", "search", "--service", PagedCollector.Service, "--all", "--cursor", cursor, "--json"]));
        Assert.Equal(seeded.TraceIds.Skip(Max), Ids(rest));

        var human = await RunOkAsync(["traces", "search", "--service", PagedCollector.Service, "--all", "--limit", "2", "--max", $"{Max}"]);
        Assert.Contains($"Stopped at {Max} traces (--max); more: run again with --cursor {cursor} (or a larger --max).", Flat(human.Stdout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Functions_failures_and_coldstarts_page_with_limit_cursor_and_all()
    {
        var firstTwo = Json(await RunOkAsync(["functions", "--limit", "2", "--json"]));
        Assert.Equal(seeded.Versions.Take(2), Versions(firstTwo));
        var next = Json(await RunOkAsync(["functions", "--limit", "2", "--cursor", firstTwo.GetProperty("next").GetString()!, "--json"]));
        Assert.Equal(seeded.Versions.Skip(2).Take(2), Versions(next));
        Assert.Equal(seeded.Versions, Versions(Json(await RunOkAsync(["functions", "--all", "--limit", "2", "--json"]))));

        var groups = Json(await RunOkAsync(["failures", "--all", "--limit", "1", "--json"]));
        Assert.Equal(
            seeded.Failures.Select(f => f.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            groups.GetProperty("items").EnumerateArray().Select(g => g.GetProperty("signature").GetProperty("statusCode").ToString()));
        Assert.Equal(JsonValueKind.Null, groups.GetProperty("next").ValueKind);
        Assert.Equal(seeded.Failures.Count + seeded.Repeats.Count, groups.GetProperty("scanned").GetInt32());
        var oneGroup = await RunOkAsync(["failures", "--limit", "1"]);
        Assert.Contains("Showing 1 failure group; more: run again with --cursor ", Flat(oneGroup.Stdout), StringComparison.Ordinal);

        var versions = Json(await RunOkAsync(["coldstarts", "--function", PagedCollector.Function, "--limit", "3", "--json"]));
        var rest = Json(await RunOkAsync(["coldstarts", "--function", PagedCollector.Function, "--limit", "3", "--cursor", versions.GetProperty("next").GetString()!, "--json"]));
        Assert.Equal(seeded.Versions, [.. Versions(versions), .. Versions(rest)]);
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task Failures_show_pages_a_groups_snapshots_with_limit_cursor_and_all()
    {
        var groups = Json(await RunOkAsync(["failures", "--json"])).GetProperty("items").EnumerateArray();
        var fingerprint = groups.Single(g => g.GetProperty("signature").GetProperty("statusCode").ToString() == "503").GetProperty("fingerprint").GetString()!;
        DateTime[] expected = [seeded.Failures[^1].Time, .. seeded.Repeats.Select(r => r.Time)];

        var first = Json(await RunOkAsync(["failures", "show", fingerprint, "--limit", "2", "--json"])).GetProperty("failure");
        var rest = Json(await RunOkAsync(["failures", "show", fingerprint, "--limit", "2", "--cursor", first.GetProperty("next").GetString()!, "--json"])).GetProperty("failure");
        var all = Json(await RunOkAsync(["failures", "show", fingerprint, "--all", "--limit", "1", "--json"])).GetProperty("failure");

        Assert.Equal(expected.Select(Millis), [.. Times(first), .. Times(rest)]);
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);
        Assert.Equal([.. Ids(first), .. Ids(rest)], Ids(all));
        Assert.Equal(3, Ids(all).Distinct().Count());
        var human = await RunOkAsync(["failures", "show", fingerprint, "--limit", "2"]);
        Assert.Contains("Showing 2 snapshots; more: run again with --cursor ", Flat(human.Stdout), StringComparison.Ordinal);

        static IEnumerable<string?> Ids(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString());
        static IEnumerable<long> Times(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(s => Millis(s.GetProperty("time").GetDateTime()));
        static long Millis(DateTime t) => new DateTimeOffset(t.ToUniversalTime()).ToUnixTimeMilliseconds();
    }

    [Fact]
    public async Task A_bad_cursor_or_limit_is_bad_usage_with_the_reason()
    {
        var cursor = await ObsCli.RunAsync(["traces", "search", "--cursor", "not-a-cursor", .. Connection]);
        Assert.Equal(2, cursor.ExitCode);
        Assert.Contains("cursor", cursor.Stderr, StringComparison.Ordinal);
        Assert.Contains("pass the \"next\" of the previous page unchanged", cursor.Stderr, StringComparison.Ordinal);

        var limit = await ObsCli.RunAsync(["functions", "--limit", "0", .. Connection]);
        Assert.Equal(2, limit.ExitCode);
        Assert.Contains("--limit 0 must be at least 1", limit.Stderr, StringComparison.Ordinal);
    }

    private async Task<ToolResult> RunOkAsync(string[] arguments)
    {
        var result = await ObsCli.RunAsync([.. arguments, .. Connection]);
        output.WriteLine($"obs {string.Join(' ', arguments)}\n{result.Stdout}");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private static JsonElement Json(ToolResult result) => JsonDocument.Parse(result.Stdout).RootElement;

    private static List<string> Ids(JsonElement answer) => [.. answer.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("traceId").GetString()!)];

    private static List<string> Versions(JsonElement answer) =>
        [.. answer.GetProperty("items").EnumerateArray().Select(f => f.GetProperty("version").GetString()!)];

    // The footer may wrap at the console's width: read it as one line.
    private static string Flat(string output) => string.Join(" ", output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}
