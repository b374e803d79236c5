using Microsoft.Playwright;
using Observability.Testing;

namespace Observability.Web.Tests;

/// <summary>A collector nothing has sent to yet: each page says what to do next instead of showing an empty table.</summary>
[Collection(WebUiTests.Name)]
public sealed class EmptyStateTests(WebUiFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private CollectorRunner _empty = null!;

    public async Task InitializeAsync() =>
        _empty = await CollectorRunner.StartAsync(await (await PostgresServer.Shared).CreateDatabaseAsync("webui_empty"));

    public async Task DisposeAsync() => await _empty.DisposeAsync();

    [Fact]
    public async Task Each_page_of_an_empty_collector_says_how_to_send_it_data()
    {
        var page = await fixture.NewPageAsync();
        var root = _empty.ApiEndpoint.ToString().TrimEnd('/');

        await page.GotoAsync($"{root}/ui/functions");
        var empty = page.Locator(".empty");
        await Assertions.Expect(empty.Locator("h3")).ToHaveTextAsync("No function has sent a span yet");
        await Assertions.Expect(empty.Locator("pre")).ToContainTextAsync("--otlp-endpoint http://127.0.0.1:4318");
        await Screenshots.SaveAsync(page, "empty-functions", output);

        await page.GotoAsync($"{root}/ui/traces");
        await Assertions.Expect(page.Locator(".empty h3")).ToHaveTextAsync("No traces in this time range");
        await page.GotoAsync($"{root}/ui/coldstarts");
        await Assertions.Expect(page.Locator(".empty h3")).ToHaveTextAsync("No function has sent a span yet");
        await page.GotoAsync($"{root}/ui/failures");
        await Assertions.Expect(page.Locator(".empty h3")).ToHaveTextAsync("No failures in this time range");
    }

    [Fact]
    public async Task The_functions_page_refreshes_itself_and_pauses_on_p()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{_empty.ApiEndpoint.ToString().TrimEnd('/')}/ui/functions");
        await Assertions.Expect(page.Locator(".empty")).ToBeVisibleAsync();

        using var sent = await _empty.Ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), OtlpFactory.Protobuf(OtlpFactory.ManyTraces("late-arrival", "late-arrival", 3)));
        sent.EnsureSuccessStatusCode();

        // No navigation: the page reads its data again every 15 s.
        await Assertions.Expect(page.Locator("table[data-table=functions] tbody tr")).ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 45_000 });
        await Assertions.Expect(page.Locator("table[data-table=functions] td").First).ToHaveTextAsync("late-arrival");

        await page.Locator("body").PressAsync("p");
        await Assertions.Expect(page.Locator("button.pause")).ToHaveAttributeAsync("aria-pressed", "true");
        await Assertions.Expect(page.Locator(".refresh-status")).ToHaveTextAsync("auto-refresh paused");
    }
}
