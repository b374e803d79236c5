using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Playwright;
using Observability.Testing;

namespace Observability.Web.Tests;

[Collection(WebUiTests.Name)]
public sealed class ReadKeyTests(WebUiFixture fixture)
{
    [Fact]
    public async Task Without_the_read_key_the_ui_is_refused_with_a_basic_challenge_and_shows_no_data()
    {
        var page = await fixture.NewPageAsync(withReadKey: false);

        // What the browser is answered: a Basic challenge (a desktop browser prompts for the key) and no data.
        var response = await page.APIRequest.GetAsync($"{fixture.BaseUrl}/ui/functions");
        Assert.Equal(401, response.Status);
        Assert.Contains("Basic realm=\"obs\"", string.Join("\n", response.HeadersArray.Where(h => h.Name.Equals("www-authenticate", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value)), StringComparison.Ordinal);
        var text = await response.TextAsync();
        Assert.DoesNotContain(SeededData.Checkout, text, StringComparison.Ordinal);
        Assert.Contains("read key", text, StringComparison.Ordinal);

        var api = await page.APIRequest.GetAsync($"{fixture.BaseUrl}/api/v1/functions");
        Assert.Equal(401, api.Status);
        Assert.DoesNotContain(SeededData.Checkout, await api.TextAsync(), StringComparison.Ordinal);

        // A headless browser has nobody to ask: the navigation fails, nothing of the app is shown.
        var failed = await Assert.ThrowsAsync<PlaywrightException>(() => page.GotoAsync($"{fixture.BaseUrl}/ui/functions"));
        Assert.Contains("ERR_INVALID_AUTH_CREDENTIALS", failed.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/ui/")]
    [InlineData("/ui/traces/0123456789abcdef0123456789abcdef")]
    [InlineData("/api/v1/functions")]
    public async Task The_read_key_works_as_a_basic_password_and_a_wrong_one_does_not(string path)
    {
        using var client = CollectorRunner.Client(fixture.Collector.HttpPort, null);

        using var right = await client.SendAsync(Basic(path, "anyone", CollectorRunner.ReadKey));
        using var wrong = await client.SendAsync(Basic(path, "anyone", CollectorRunner.ReadKey + "x"));
        using var writeKey = await client.SendAsync(Basic(path, "anyone", CollectorRunner.WriteKey));

        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, writeKey.StatusCode);
    }

    [Fact]
    public async Task A_deep_link_is_served_the_app_and_a_missing_asset_is_not_found()
    {
        using var client = CollectorRunner.Client(fixture.Collector.HttpPort, CollectorRunner.ReadKey);

        using var deep = await client.GetAsync(new Uri($"/ui/snapshots/{Guid.NewGuid():N}", UriKind.Relative));
        using var asset = await client.GetAsync(new Uri("/ui/assets/no-such-file.js", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, deep.StatusCode);
        Assert.Equal("text/html", deep.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<div id=\"app\"", await deep.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, asset.StatusCode);
    }

    private static HttpRequestMessage Basic(string path, string user, string password) => new(HttpMethod.Get, new Uri(path, UriKind.Relative))
    {
        Headers = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"))) },
    };
}
