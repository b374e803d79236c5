using Microsoft.Playwright;

namespace Observability.Web.Tests;

[Collection(WebUiTests.Name)]
public sealed class TracePagesTests(WebUiFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task The_waterfall_shows_the_spans_in_tree_order_indented_by_depth()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/traces/{fixture.Data.ShowcaseTraceId}");
        var rows = page.Locator(".span-row");
        await Assertions.Expect(rows).ToHaveCountAsync(fixture.Data.ShowcaseSpans.Count);

        var seen = new List<(string Name, int Depth)>();
        var indent = new Dictionary<int, double>();
        for (var i = 0; i < fixture.Data.ShowcaseSpans.Count; i++)
        {
            var row = rows.Nth(i);
            var name = await row.Locator(".span-name").InnerTextAsync();
            var depth = int.Parse(await row.GetAttributeAsync("aria-level") ?? "0", System.Globalization.CultureInfo.InvariantCulture) - 1;
            seen.Add((name, depth));
            var x = (await row.Locator(".span-name").BoundingBoxAsync())!.X;
            if (indent.TryGetValue(depth, out var sameDepth))
            {
                Assert.Equal(sameDepth, x, 1.0);
            }

            indent[depth] = x;
        }

        Assert.Equal(fixture.Data.ShowcaseSpans, seen);
        var depths = indent.Keys.Order().ToList();
        Assert.All(depths.Skip(1), d => Assert.True(indent[d] > indent[d - 1] + 8, $"depth {d} should be indented past depth {d - 1}"));

        // The checkout invocation paid a cold start and is marked so.
        await Assertions.Expect(rows.Nth(2).Locator(".badge.cold")).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "trace-waterfall", output);
    }

    [Fact]
    public async Task A_span_opens_its_attributes_and_events_in_place()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/traces/{fixture.Data.ShowcaseTraceId}");
        var charge = page.Locator(".span-row[data-name='POST /charge']");
        await charge.ClickAsync();

        var detail = page.Locator(".span-detail");
        await Assertions.Expect(detail).ToContainTextAsync("card declined, retrying");
        await Assertions.Expect(detail).ToContainTextAsync("http.route");
        await Assertions.Expect(detail).ToContainTextAsync(SeededData.Payments);
        await Screenshots.SaveAsync(page, "trace-span-detail", output);

        // Keyboard: the focused row closes with Enter and the next one is a key press away.
        await charge.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(detail).ToHaveCountAsync(0);
        await page.Keyboard.PressAsync("ArrowDown");
        await Assertions.Expect(page.Locator(".span-row[data-name='fraud check']")).ToBeFocusedAsync();
    }

    [Fact]
    public async Task A_cold_start_record_links_to_the_invocation_it_delayed()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/traces/{fixture.Data.ShowcaseColdStartTraceId}");
        await Assertions.Expect(page.Locator(".span-row .span-name")).ToHaveTextAsync(
            ["faas.coldstart", "coldstart.spawn", "coldstart.init", "coldstart.runtime_start", "coldstart.app_init", "coldstart.first_request"]);
        await Screenshots.SaveAsync(page, "trace-coldstart-record", output);

        await page.Locator(".span-row[data-name='faas.coldstart']").ClickAsync();
        await page.Locator(".span-detail .links a").ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/ui/traces/{fixture.Data.ShowcaseTraceId}\\?span={fixture.Data.ShowcaseCheckoutSpanId}$"));
        var target = page.Locator($".span-row[data-span-id='{fixture.Data.ShowcaseCheckoutSpanId}']");
        await Assertions.Expect(target).ToHaveAttributeAsync("aria-expanded", "true");
    }

    [Fact]
    public async Task The_search_finds_a_functions_failed_traces()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/traces");
        await Assertions.Expect(page.Locator("table[data-table=traces] tbody tr").First).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "traces", output);
        await page.Locator("body").PressAsync("/");
        await Assertions.Expect(page.Locator("input[name=function]")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(SeededData.Thumbnails);
        await page.Locator("input[name=errors]").CheckAsync();
        await page.Locator("input[name=function]").PressAsync("Enter");

        var rows = page.Locator("table[data-table=traces] tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("POST /thumbnails");
        Assert.Contains("function=thumbnails", page.Url, StringComparison.Ordinal);
        Assert.Contains("errors=true", page.Url, StringComparison.Ordinal);
        await Screenshots.SaveAsync(page, "traces-search", output);
    }
}
