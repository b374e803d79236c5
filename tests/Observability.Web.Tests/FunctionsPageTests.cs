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

    private static string Percent(int part, int whole) => (100.0 * part / whole).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
