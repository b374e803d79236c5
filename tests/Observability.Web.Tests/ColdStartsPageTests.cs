using System.Globalization;
using Microsoft.Playwright;

namespace Observability.Web.Tests;

[Collection(WebUiTests.Name)]
public sealed class ColdStartsPageTests(WebUiFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Shows_the_newest_versions_cold_starts_with_its_rate_and_init_percentiles_and_charts()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/coldstarts?function={SeededData.Checkout}&range=6h");

        var (invocations, _, coldStarts) = fixture.Data.Expected[(SeededData.Checkout, "2")];
        var init = fixture.Data.InitMs[(SeededData.Checkout, "2")].Order().ToList();
        var facts = page.Locator("dl.facts.big[data-version='2']");
        await Assertions.Expect(facts.Locator("[data-fact=coldStarts]")).ToHaveTextAsync(coldStarts.ToString(CultureInfo.InvariantCulture));
        await Assertions.Expect(facts.Locator("[data-fact=coldStartRate]")).ToContainTextAsync((100.0 * coldStarts / invocations).ToString("F1", CultureInfo.InvariantCulture) + "%");
        await Assertions.Expect(facts.Locator("[data-fact=initP50]")).ToHaveTextAsync($"{LowerPercentile(init, 0.50)} ms");
        await Assertions.Expect(facts.Locator("[data-fact=initP95]")).ToHaveTextAsync($"{LowerPercentile(init, 0.95)} ms");

        // One tab, one phase bar and one init spread per version; the time series is drawn.
        await Assertions.Expect(page.Locator(".tabs [role=tab]")).ToHaveTextAsync(new[] { new System.Text.RegularExpressions.Regex("^v1"), new System.Text.RegularExpressions.Regex("^v2") });
        await Assertions.Expect(page.Locator(".phase-row")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator(".spread-row")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("[data-chart='cold-start rate and p95 init duration'] canvas")).ToHaveCountAsync(1);
        await Screenshots.SaveAsync(page, "coldstarts", output);
        await Screenshots.SaveAsync(page, "coldstarts-full", output, fullPage: true);
    }

    [Fact]
    public async Task A_version_tab_shows_that_versions_numbers()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/coldstarts?function={SeededData.Checkout}&range=24h");
        await page.Locator(".tabs [role=tab]", new PageLocatorOptions { HasTextString = "v1" }).ClickAsync();

        var (_, _, coldStarts) = fixture.Data.Expected[(SeededData.Checkout, "1")];
        var init = fixture.Data.InitMs[(SeededData.Checkout, "1")].Order().ToList();
        var facts = page.Locator("dl.facts.big[data-version='1']");
        await Assertions.Expect(facts.Locator("[data-fact=coldStarts]")).ToHaveTextAsync(coldStarts.ToString(CultureInfo.InvariantCulture));
        await Assertions.Expect(facts.Locator("[data-fact=initP95]")).ToHaveTextAsync($"{LowerPercentile(init, 0.95)} ms");
        Assert.Contains("version=1", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_version_comparison_flags_the_slower_start_of_the_new_version()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/coldstarts?function={SeededData.Checkout}&range=24h");

        var v1 = fixture.Data.InitMs[(SeededData.Checkout, "1")].Order().ToList();
        var v2 = fixture.Data.InitMs[(SeededData.Checkout, "2")].Order().ToList();
        // Worked out here: every v2 start is slower than every v1 start (U of v1 = 0), so the normal approximation's
        // |z| is past 1.96 (p < 0.05), and the p95 rose by more than 10%: a regression by the documented rule.
        var u = v1.Sum(a => v2.Count(b => a > b) + (0.5 * v2.Count(b => a == b)));
        var z = (u - (v1.Count * v2.Count / 2.0)) / Math.Sqrt(v1.Count * v2.Count * (v1.Count + v2.Count + 1) / 12.0);
        Assert.True(Math.Abs(z) > 1.96 && LowerPercentile(v2, 0.95) > 1.1 * LowerPercentile(v1, 0.95), "the seed should make v2 a clear regression");

        var compare = page.Locator("table[data-table=compare]");
        await Assertions.Expect(page.Locator("[data-regression]")).ToHaveAttributeAsync("data-regression", "true");
        var p95 = compare.Locator("tr", new LocatorLocatorOptions { HasTextString = "Init p95" }).Locator("td");
        await Assertions.Expect(p95.Nth(1)).ToHaveTextAsync($"{LowerPercentile(v1, 0.95)} ms");
        await Assertions.Expect(p95.Nth(2)).ToHaveTextAsync($"{LowerPercentile(v2, 0.95)} ms");
        await Assertions.Expect(p95.Nth(4)).ToContainTextAsync("Mann-Whitney U, p");
        await compare.ScrollIntoViewIfNeededAsync();
        await Screenshots.SaveAsync(page, "coldstarts-compare", output);
    }

    [Fact]
    public async Task The_init_duration_distribution_shows_each_versions_cold_starts_per_bucket()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/coldstarts?function={SeededData.Checkout}&range=6h");

        // The bounds of faas_init_duration_seconds (docs/collector.md), a bucket each, and one above the last.
        int[] bounds = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];
        string[] labels = ["≤10 ms", "≤25 ms", "≤50 ms", "≤100 ms", "≤250 ms", "≤500 ms", "≤1 s", "≤2.5 s", "≤5 s", "≤10 s", "≤30 s", ">30 s"];
        foreach (var version in new[] { "1", "2" })
        {
            var init = fixture.Data.InitMs[(SeededData.Checkout, version)];
            var columns = page.Locator($"figure.hist[data-version='{version}'] .hist-col");
            await Assertions.Expect(columns).ToHaveCountAsync(bounds.Length + 1);
            await Assertions.Expect(columns.Locator(".hist-label")).ToHaveTextAsync(labels);
            var counts = Enumerable.Range(0, bounds.Length + 1)
                .Select(b => init.Count(ms => (b == 0 || ms > bounds[b - 1]) && (b == bounds.Length || ms <= bounds[b]))).ToList();
            Assert.Equal(init.Count, counts.Sum());
            await Assertions.Expect(columns.Locator(".hist-count")).ToHaveTextAsync(counts.Select(c => c == 0 ? string.Empty : c.ToString(CultureInfo.InvariantCulture)).ToArray());
            await Assertions.Expect(page.Locator($"figure.hist[data-version='{version}'] figcaption")).ToHaveTextAsync($"v{version} · {init.Count} cold starts");

            // The tallest bar is the bucket with the most cold starts; an empty bucket has no bar.
            var heights = await columns.Locator(".hist-bar").EvaluateAllAsync<double[]>("bars => bars.map(b => b.getBoundingClientRect().height)");
            Assert.Equal(counts.IndexOf(counts.Max()), Array.IndexOf(heights, heights.Max()));
            Assert.All(counts.Select((c, i) => (c, i)).Where(x => x.c == 0), x => Assert.Equal(0, heights[x.i]));
        }

        await page.Locator("figure.hist").First.ScrollIntoViewIfNeededAsync();
        await Screenshots.SaveAsync(page, "coldstarts-distribution", output);
    }

    /// <summary>PostgreSQL's percentile_disc: the smallest value whose cumulative share reaches <paramref name="p"/>.</summary>
    private static int LowerPercentile(List<int> sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
