using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Observability.Testing;

namespace Observability.Web.Tests;

/// <summary>
/// "Load more" under every paged list: a small page size from the URL (?limit=), rows appended without repeats,
/// the button gone once the collector gives no next, and auto-refresh re-reading the pages shown.
/// </summary>
[Collection(WebUiTests.Name)]
public sealed class PagingTests(WebUiFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Load_more_appends_the_next_traces_without_repeats_and_disappears_at_the_end()
    {
        var expected = fixture.Data.TraceIdsOf(SeededData.Thumbnails);
        const int PageSize = 8;
        var page = await fixture.NewPageAsync();
        var url = $"{fixture.BaseUrl}/ui/traces?function={SeededData.Thumbnails}&range=6h&limit={PageSize}";
        await page.GotoAsync(url);
        var rows = page.Locator("table[data-table=traces] tbody tr");
        var more = page.Locator("button[data-load-more]");
        await Assertions.Expect(rows).ToHaveCountAsync(PageSize);
        await Assertions.Expect(page.Locator(".more-status")).ToHaveTextAsync($"Showing {PageSize} traces; there are more.");
        var first = await TraceIdsAsync(rows);

        // From the keyboard: the button is reachable with Tab and keeps the focus while pages come in.
        await more.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(rows).ToHaveCountAsync(2 * PageSize);
        await Assertions.Expect(more).ToBeFocusedAsync();
        var two = await TraceIdsAsync(rows);
        Assert.Equal(first, two.Take(PageSize));
        await Screenshots.SaveAsync(page, "traces-load-more", output);

        // Until the search is done: every trace of the function once, the button gone, the count said.
        for (var clicks = 0; clicks < 10 && await more.IsVisibleAsync(); clicks++)
        {
            await more.ClickAsync();
            await Assertions.Expect(rows).Not.ToHaveCountAsync(2 * PageSize + (clicks * PageSize));
        }

        await Assertions.Expect(rows).ToHaveCountAsync(expected.Count);
        var all = await TraceIdsAsync(rows);
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(expected.Order(), all.Order());
        await Assertions.Expect(more).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator(".more-status")).ToHaveTextAsync($"Showing all {expected.Count} traces.");
        Assert.Equal(url, page.Url);
    }

    [Fact]
    public async Task Load_more_pages_the_failure_groups_and_a_groups_snapshots()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/failures?limit=1");
        var groups = page.Locator("table[data-table=failures] tbody tr");
        var more = page.Locator("button[data-load-more]");
        await Assertions.Expect(groups).ToHaveCountAsync(1);
        for (var clicks = 0; clicks < fixture.Data.FailureGroups && await more.IsVisibleAsync(); clicks++)
        {
            await more.ClickAsync();
            await Assertions.Expect(groups).ToHaveCountAsync(clicks + 2);
        }

        await Assertions.Expect(more).ToBeHiddenAsync();
        await Assertions.Expect(groups).ToHaveCountAsync(fixture.Data.FailureGroups);
        var fingerprints = await groups.Locator("td:first-child a").EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href'))");
        Assert.Equal(fixture.Data.FailureGroups, fingerprints.Distinct().Count());

        // The group of the exception, three snapshots a page.
        Assert.True(fixture.Data.CheckoutSnapshots > 3, "the seed should give the group more snapshots than a page");
        await page.GotoAsync($"{fixture.BaseUrl}/ui/failures?limit=50");
        await page.Locator("table[data-table=failures] a", new PageLocatorOptions { HasTextString = SeededData.ExceptionType }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/ui/failures/[0-9a-f]{16}"));
        await page.GotoAsync(page.Url.Split('?')[0] + "?limit=3");
        var snapshots = page.Locator("table[data-table=snapshots] tbody tr");
        await Assertions.Expect(snapshots).ToHaveCountAsync(3);
        var heading = page.Locator("section h2", new PageLocatorOptions { HasTextString = "Snapshots" });
        await Assertions.Expect(heading).ToHaveTextAsync($"Snapshots (3 of {fixture.Data.CheckoutSnapshots})");
        await Screenshots.SaveAsync(page, "failure-group-load-more", output);
        await more.ClickAsync();
        await Assertions.Expect(snapshots).ToHaveCountAsync(fixture.Data.CheckoutSnapshots);
        await Assertions.Expect(more).ToBeHiddenAsync();
        var ids = await snapshots.Locator("a", new LocatorLocatorOptions { HasTextString = "open snapshot" }).EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href'))");
        Assert.Equal(fixture.Data.CheckoutSnapshots, ids.Distinct().Count());
        await Assertions.Expect(heading).ToHaveTextAsync($"Snapshots ({fixture.Data.CheckoutSnapshots})");
    }

    [Fact]
    public async Task Load_more_pages_the_functions_and_back_returns_to_as_many_pages()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/functions?range=24h&limit=1");
        var rows = page.Locator("table[data-table=functions] tbody tr");
        var more = page.Locator("button[data-load-more]");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await more.ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(2);

        // Away to a trace list and back: the two pages are there again.
        await rows.Nth(1).GetByText("traces").ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Traces");
        await page.GoBackAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(2);

        for (var clicks = 0; clicks < fixture.Data.Expected.Count && await more.IsVisibleAsync(); clicks++)
        {
            await more.ClickAsync();
            await Assertions.Expect(rows).ToHaveCountAsync(clicks + 3);
        }

        await Assertions.Expect(rows).ToHaveCountAsync(fixture.Data.Expected.Count);
        await Assertions.Expect(more).ToBeHiddenAsync();
        var names = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.cells[0].innerText + '@' + r.cells[1].innerText)");
        Assert.Equal(fixture.Data.Expected.Keys.Select(k => $"{k.Function}@{k.Version}").Order(), names.Order());
    }

    [Fact]
    public async Task Auto_refresh_re_reads_every_page_shown_so_the_list_keeps_its_length_and_shows_new_rows()
    {
        // A service of its own (no function, so no other page changes): five traces, two a page.
        const string Service = "paging-refresh";
        using (var sent = await fixture.Collector.Ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), OtlpFactory.Protobuf(OtlpFactory.ManyTraces(Service, null, 5))))
        {
            sent.EnsureSuccessStatusCode();
        }

        var page = await fixture.NewPageAsync();
        await page.Clock.InstallAsync();
        var rows = page.Locator("table[data-table=traces] tbody tr");
        await Poll.UntilAsync(
            async () =>
            {
                await page.GotoAsync($"{fixture.BaseUrl}/ui/traces?service={Service}&limit=2");
                await Assertions.Expect(page.Locator("[data-table=traces], .empty")).ToBeVisibleAsync();
                return await page.Locator("button[data-load-more]").IsVisibleAsync();
            },
            visible => visible, TimeSpan.FromSeconds(60), "the refresh test's traces");
        await page.Locator("button[data-load-more]").ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(4);
        var before = await TraceIdsAsync(rows);

        // A newer trace arrives; the next tick re-reads both pages: it comes first, the list stays four long.
        var newer = OtlpFactory.Span("newest");
        newer.StartTimeUnixNano = OtlpFactory.Nanos(DateTime.UtcNow);
        newer.EndTimeUnixNano = newer.StartTimeUnixNano + 1_000_000;
        using (var sent = await fixture.Collector.Ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), OtlpFactory.Protobuf(OtlpFactory.Traces(Service, null, newer))))
        {
            sent.EnsureSuccessStatusCode();
        }

        var newest = Convert.ToHexStringLower(newer.TraceId.ToByteArray());
        await Poll.UntilAsync(
            async () =>
            {
                await page.Clock.FastForwardAsync("00:16");
                return (await TraceIdsAsync(rows)).FirstOrDefault();
            },
            id => id == newest, TimeSpan.FromSeconds(60), "the refreshed list");
        var after = await TraceIdsAsync(rows);
        Assert.Equal([newest, .. before.Take(3)], after);
        await Assertions.Expect(page.Locator(".refresh-status")).ToContainTextAsync("updated");
        await Assertions.Expect(page.Locator(".more-status")).ToHaveTextAsync("Showing 4 traces; there are more.");
    }

    private static async Task<List<string>> TraceIdsAsync(ILocator rows) =>
        [.. (await rows.Locator("td:nth-child(2) a").EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href'))")).Select(h => h.Split('/')[^1])];
}
