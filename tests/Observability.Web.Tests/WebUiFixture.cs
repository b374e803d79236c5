using Microsoft.Playwright;
using Observability.Testing;

namespace Observability.Web.Tests;

/// <summary>
/// One collector over the real PostgreSQL fixture, seeded once (<see cref="SeededData"/>), and one headless
/// Chromium (Debian's; Playwright's own download does not work here) shared by every test of the collection.
/// </summary>
public sealed class WebUiFixture : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private IPlaywright? _playwright;

    public CollectorRunner Collector { get; private set; } = null!;

    public SeededData Data { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string BaseUrl => Collector.ApiEndpoint.ToString().TrimEnd('/');

    /// <summary>Where the tests write their screenshots (kept as test artifacts).</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.Shared;
        Collector = await CollectorRunner.StartAsync(await server.CreateDatabaseAsync("webui"));
        Data = await SeededData.SendAsync(Collector);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("OBS_CHROMIUM") ?? Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
        });
        Directory.CreateDirectory(ScreenshotFolder);
    }

    /// <summary>A page in a fresh context at laptop size; with the read key, given as a browser gives it: HTTP Basic after the collector's challenge.</summary>
    public async Task<IPage> NewPageAsync(bool withReadKey = true)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1366, Height = 768 },
            HttpCredentials = withReadKey ? new HttpCredentials { Username = "me", Password = CollectorRunner.ReadKey } : null,
            TimezoneId = "UTC",
            Locale = "en-GB",
        });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Collector is not null)
        {
            await Collector.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class WebUiTests : ICollectionFixture<WebUiFixture>
{
    public const string Name = "web ui";
}
