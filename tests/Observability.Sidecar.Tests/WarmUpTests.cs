using System.Net;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>A warm-up ping counts as one only with the sidecar's token, never passes the token on, and says what it found.</summary>
public sealed class WarmUpTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const string Token = "warm-up-tests-token-6f1c2a";
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task Only_the_token_makes_a_ping_and_the_answer_says_whether_it_found_the_function_cold()
    {
        await using var sidecar = await SidecarRunner.StartAsync("pinged", _collector, $"WarmUpToken={Token}", "Routes:0=/headers");

        var (coldPing, coldHeaders) = await HeadersAsync(sidecar, Token);
        var (warmPing, warmHeaders) = await HeadersAsync(sidecar, Token);
        Assert.Equal(["true"], coldPing.GetValues("X-Obs-Warmup-Cold"));
        Assert.Equal(["false"], warmPing.GetValues("X-Obs-Warmup-Cold"));
        // The function may know it is pinged, but never sees the token.
        Assert.Contains("X-Obs-Warmup: 1", coldHeaders, StringComparison.Ordinal);
        Assert.Contains("X-Obs-Warmup: 1", warmHeaders, StringComparison.Ordinal);

        // A wrong token, or none: an ordinary invocation, and the function is not told it is a ping.
        foreach (var spoof in new[] { Token + "x", "", Token[..^1], "1" })
        {
            var (answer, seen) = await HeadersAsync(sidecar, spoof);
            Assert.False(answer.Contains("X-Obs-Warmup-Cold"), $"\"{spoof}\" was answered as a ping");
            Assert.DoesNotContain("X-Obs-Warmup", seen, StringComparison.OrdinalIgnoreCase);
        }

        var series = "{function=\"pinged\",version=\"1\",trigger=\"http\"}";
        var metrics = await Poll.UntilAsync(
            () => _collector.Query.GetStringAsync("/metrics"),
            m => MetricsText.Value(m, "faas_invocations_total" + series) >= 4 && MetricsText.Value(m, "obs_warmup_invocations_total" + series) >= 2,
            TimeSpan.FromSeconds(60),
            "pings and invocations");
        Assert.Equal(4, MetricsText.Value(metrics, "faas_invocations_total" + series));
        Assert.Equal(2, MetricsText.Value(metrics, "obs_warmup_invocations_total" + series));
        Assert.Equal(0, MetricsText.Value(metrics, "faas_coldstarts_total" + series)); // the ping paid for it
        Assert.Equal(2, (await _collector.SpansAsync("pinged", "GET /headers", n => n >= 6)).Count(s => s.GetProperty("warmUp").GetBoolean()));
        Assert.DoesNotContain(Token, sidecar.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_token_configured_no_request_is_a_ping()
    {
        await using var sidecar = await SidecarRunner.StartAsync("tokenless", _collector, "Routes:0=/headers");
        var (answer, seen) = await HeadersAsync(sidecar, "anything at all");
        Assert.False(answer.Contains("X-Obs-Warmup-Cold"));
        Assert.DoesNotContain("X-Obs-Warmup", seen, StringComparison.OrdinalIgnoreCase);
        var span = Assert.Single(await _collector.SpansAsync("tokenless", "GET /headers", n => n >= 1));
        Assert.False(span.GetProperty("warmUp").GetBoolean());
        Assert.True(span.GetProperty("function").GetProperty("coldStart").GetBoolean());
    }

    /// <summary>Calls /headers with the warm-up header: the sidecar's answer headers, and the headers the function saw.</summary>
    private static async Task<(System.Net.Http.Headers.HttpResponseHeaders Answer, string Seen)> HeadersAsync(SidecarRunner sidecar, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/headers");
        request.Headers.TryAddWithoutValidation("X-Obs-Warmup", value);
        var response = await sidecar.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response.Headers, await response.Content.ReadAsStringAsync());
    }
}
