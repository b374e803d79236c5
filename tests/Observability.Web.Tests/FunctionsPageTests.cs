using System.Globalization;
using Microsoft.Playwright;

namespace Observability.Web.Tests;

[Collection(WebUiTests.Name)]
public sealed class FunctionsPageTests(WebUiFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Lists_every_function_version_with_its_invocations_error_and_cold_start_rates()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/functions?range=24h");
        var rows = page.Locator("table[data-table=functions] tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(fixture.Data.Expected.Count);

        foreach (var ((function, version), (invocations, errors, coldStarts)) in fixture.Data.Expected)
        {
            var row = rows.Filter(new LocatorFilterOptions { Has = page.Locator($"td:nth-child(1) a:text-is('{function}')") })
                .Filter(new LocatorFilterOptions { Has = page.Locator($"td:nth-child(2) code:text-is('{version}')") });
            var cells = await row.Locator("td").AllInnerTextsAsync();
            Assert.Equal(invocations.ToString("N0", CultureInfo.InvariantCulture), cells[2]);
            Assert.Equal(Percent(errors, invocations), cells[3]);
            Assert.Equal(Percent(coldStarts, invocations), cells[4]);
            var latency = fixture.Data.LatencyMs[(function, version)].Order().ToList();
            Assert.Equal(Duration(latency[(int)Math.Ceiling(0.95 * latency.Count) - 1]), cells[5]);
        }

        await Screenshots.SaveAsync(page, "functions", output);
    }

    [Fact]
    public async Task The_root_redirects_to_the_ui_and_number_keys_switch_pages()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/");
        Assert.EndsWith("/ui/", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Functions");

        await page.Keyboard.PressAsync("2");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Traces");
        await page.Keyboard.PressAsync("Escape");
        await page.Locator("body").FocusAsync();
        await page.Keyboard.PressAsync("4");
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Failures");
    }

    /// <summary>Whole milliseconds as the UI writes them: one decimal under 100 ms, none under a second, else seconds to two places.</summary>
    private static string Duration(int ms) => ms switch
    {
        < 100 => ms.ToString("F1", CultureInfo.InvariantCulture) + " ms",
        < 1000 => $"{ms} ms",
        _ => (ms / 1000.0).ToString("F2", CultureInfo.InvariantCulture) + " s",
    };

    private static string Percent(int part, int whole) => (100.0 * part / whole).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
