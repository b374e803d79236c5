using Microsoft.Playwright;

namespace Observability.Web.Tests;

/// <summary>Full-page PNGs of what the tests saw, under the test output folder; the path goes to the test log.</summary>
internal static class Screenshots
{
    public static async Task<string> SaveAsync(IPage page, string name, ITestOutputHelper output, bool fullPage = false)
    {
        var path = Path.Combine(WebUiFixture.ScreenshotFolder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
        output.WriteLine($"screenshot: {path}");
        return path;
    }
}
