using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Observability.Testing;

namespace Observability.Web.Tests;

[Collection(WebUiTests.Name)]
public sealed class FailuresPageTests(WebUiFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Groups_the_snapshots_by_what_failed()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/failures");

        var rows = page.Locator("table[data-table=failures] tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        var exception = rows.Filter(new LocatorFilterOptions { HasText = SeededData.ExceptionType });
        var cells = await exception.Locator("td").AllInnerTextsAsync();
        Assert.Equal(SeededData.Checkout, cells[1]);
        Assert.Equal(fixture.Data.CheckoutSnapshots.ToString(CultureInfo.InvariantCulture), cells[2]);
        Assert.Equal("2", cells[3]);
        var timeout = rows.Filter(new LocatorFilterOptions { HasText = "timeout" });
        Assert.Equal([SeededData.Thumbnails, "1"], (await timeout.Locator("td").AllInnerTextsAsync()).Skip(1).Take(2));
        await Screenshots.SaveAsync(page, "failures", output);
    }

    [Fact]
    public async Task A_snapshot_shows_its_exception_request_logs_and_redacted_environment_and_links_to_its_trace()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/failures");
        await page.Locator("table[data-table=failures] a", new PageLocatorOptions { HasTextString = SeededData.ExceptionType }).ClickAsync();

        var snapshots = page.Locator("table[data-table=snapshots] tbody tr");
        await Assertions.Expect(snapshots).ToHaveCountAsync(fixture.Data.CheckoutSnapshots);
        // The group's frames are normalised: no "at", no file or line number.
        await Assertions.Expect(page.Locator("pre.stack")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^Checkout\.Cart\.Total\(Cart cart\)\nCheckout\.Handlers\.Post\(HttpContext context\)"));
        await Screenshots.SaveAsync(page, "failure-group", output);
        await snapshots.Last.GetByText("open snapshot").ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/snapshots/[0-9a-f]{32}$"));
        var exception = page.Locator(".exception");
        await Assertions.Expect(exception.Locator(".exception-head")).ToContainTextAsync($"{SeededData.ExceptionType}: {SeededData.ExceptionMessage}");
        await Assertions.Expect(exception.Locator("pre.stack")).ToContainTextAsync(SeededData.ExceptionFrame);
        await Assertions.Expect(page.GetByText("POST /checkout?cart=8812")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("pre.logs")).ToContainTextAsync("Request POST /checkout failed");
        var environment = page.Locator("table[aria-label=Environment] tr", new PageLocatorOptions { HasTextString = "DB_PASSWORD" });
        await Assertions.Expect(environment.Locator("td").Nth(1)).ToHaveTextAsync("***");
        await Assertions.Expect(page.Locator("dd.dump")).ToContainTextAsync("/var/spool/obs/dumps/checkout-4242.dmp");
        await Screenshots.SaveAsync(page, "snapshot", output);
        await Screenshots.SaveAsync(page, "snapshot-full", output, fullPage: true);

        // A deep link: the same page after a reload.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator(".exception-head")).ToContainTextAsync(SeededData.ExceptionType);

        await page.GetByText("open the trace").ClickAsync();
        await Assertions.Expect(page.Locator(".span-row").First).ToContainTextAsync("POST /checkout");
        await Assertions.Expect(page.Locator(".span-row.error")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task A_snapshot_whose_dump_the_collector_holds_links_to_it_and_the_link_downloads_it()
    {
        // Three days back, outside the failures page's default day, so that the groups the other tests count stay as seeded.
        var time = DateTime.UtcNow.AddDays(-3);
        var dumpId = Guid.NewGuid().ToString("N");
        var dump = System.Security.Cryptography.RandomNumberGenerator.GetBytes((2 * 1024 * 1024) + 3);
        const string Function = "dump-link-fn";
        var snapshot = new SnapshotSeed.Snapshot(Function, "1", time, "status_5xx", 500, "/pay", SeededData.ExceptionType, SeededData.StackTrace,
            new System.Text.Json.Nodes.JsonObject { ["id"] = dumpId, ["kind"] = "Triage", ["path"] = "/var/spool/obs/dumps/dump-77-20261128T101500.000Z-triage.dmp", ["bytes"] = dump.Length });
        using (var logs = await fixture.Collector.Ingest.PostAsync(new Uri("/v1/logs", UriKind.Relative), OtlpFactory.Protobuf(SnapshotSeed.Export(snapshot))))
        {
            logs.EnsureSuccessStatusCode();
        }

        using (var content = new ByteArrayContent(dump))
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            using var put = await fixture.Collector.Ingest.PutAsync(new Uri($"/v1/dumps/{dumpId}", UriKind.Relative), content);
            Assert.Equal(System.Net.HttpStatusCode.Created, put.StatusCode);
        }

        var range = string.Create(CultureInfo.InvariantCulture, $"function={Function}&start={time.AddMinutes(-1):yyyy-MM-dd'T'HH:mm:ss'Z'}&end={time.AddMinutes(1):yyyy-MM-dd'T'HH:mm:ss'Z'}");
        var groups = await Observability.Testing.Poll.UntilAsync(
            () => fixture.Collector.Query.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/failures?{range}"),
            g => g.GetProperty("items").GetArrayLength() == 1,
            what: "the snapshot with a dump");
        var snapshotId = groups.GetProperty("items")[0].GetProperty("latestSnapshotId").GetString()!;

        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/snapshots/{snapshotId}");

        var link = page.Locator("dd.dump a");
        await Assertions.Expect(link).ToContainTextAsync("download Triage dump");
        await Assertions.Expect(link).ToHaveAttributeAsync("href", $"/api/v1/snapshots/{snapshotId}/dump");
        await Assertions.Expect(page.Locator("dd.dump code")).ToHaveCountAsync(0);
        var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        Assert.Equal("dump-77-20261128T101500.000Z-triage.dmp", download.SuggestedFilename);
        Assert.Equal(dump, await File.ReadAllBytesAsync(await download.PathAsync()));
        await Screenshots.SaveAsync(page, "snapshot-dump", output);
    }
}
