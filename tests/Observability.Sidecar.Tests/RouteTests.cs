using System.Net.Http.Json;
using System.Text.Json;
using Observability.Sidecar.Proxy;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>Span names come from configured route templates, never from raw paths, so operations stay few.</summary>
public sealed class RouteTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Theory]
    [InlineData("/orders/42", "/orders/{id}")]
    [InlineData("/orders/42/", "/orders/{id}")]
    [InlineData("/ORDERS/42", "/orders/{id}")]
    [InlineData("/orders/42/items/7", "/orders/{id}/items/{item}")]
    [InlineData("/orders/new", "/orders/{id}")] // first match wins
    [InlineData("/files", "/files/{*path}")]
    [InlineData("/files/a/b/c.txt", "/files/{*path}")]
    [InlineData("/", "/")]
    [InlineData("/orders", null)]
    [InlineData("/orders//", null)]
    [InlineData("/orders/42/items", null)]
    [InlineData("/filesystem", null)]
    [InlineData("/other/42", null)]
    public void A_path_matches_the_first_template_that_fits_it(string path, string? template)
    {
        var routes = new RouteTable(["/orders/{id}", "/orders/new", "/orders/{id}/items/{item}", "/files/{*path}", "/"]);
        Assert.Equal(template, routes.Match(path)?.Template);
    }

    [Fact]
    public void A_span_name_is_the_method_and_the_template_made_once()
    {
        var route = new RouteTable(["/orders/{id}"]).Match("/orders/1")!;
        Assert.Equal("GET /orders/{id}", route.SpanName("GET"));
        Assert.Same(route.SpanName("GET"), route.SpanName(new string("GET".AsSpan())));
        Assert.Equal("PROPFIND /orders/{id}", route.SpanName("PROPFIND"));
        Assert.Null(new RouteTable([]).Match("/orders/1"));
    }

    [Fact]
    public async Task A_thousand_ids_in_urls_leave_the_operations_bounded()
    {
        const int ids = 1000;
        await using var sidecar = await SidecarRunner.StartAsync("routed", _collector, "Routes:0=/orders/{id}", "Routes:1=/hello");
        await Parallel.ForEachAsync(Enumerable.Range(0, ids), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            (await sidecar.Client.GetAsync($"/orders/{i}", ct)).Dispose();
            if (i % 10 == 0)
            {
                (await sidecar.Client.GetAsync($"/unrouted/{i}", ct)).Dispose(); // no template: named by its method
            }
        });
        await Poll.UntilAsync(
            () => _collector.Query.GetStringAsync("/metrics"),
            m => MetricsText.Value(m, "faas_invocations_total{function=\"routed\",version=\"1\",trigger=\"http\"}") >= ids + (ids / 10),
            TimeSpan.FromSeconds(60),
            "every invocation");

        var operations = (await _collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/services/routed/operations")).GetProperty("items").EnumerateArray()
            .Where(o => o.GetProperty("kind").GetString() == "server").Select(o => o.GetProperty("name").GetString()).Order().ToList();
        Assert.Equal(["GET", "GET /orders/{id}"], operations);
        var jaeger = (await _collector.Query.GetFromJsonAsync<JsonElement>("/jaeger/api/services/routed/operations")).GetProperty("data").EnumerateArray()
            .Select(o => o.GetString()!).ToList();
        Assert.InRange(jaeger.Count, 2, 10); // the two above and the cold-start record's few
        Assert.DoesNotContain(jaeger, name => name.Contains("/orders/1", StringComparison.Ordinal) || name.Contains("/unrouted", StringComparison.Ordinal));

        var span = (await _collector.SpansAsync("routed", "GET /orders/{id}", n => n >= 1))[0];
        Assert.Equal("/orders/{id}", span.GetProperty("attributes").GetProperty("http.route").GetString());
        Assert.StartsWith("/orders/", span.GetProperty("attributes").GetProperty("url.path").GetString(), StringComparison.Ordinal);
        var unrouted = (await _collector.SpansAsync("routed", "GET", n => n >= 1))[0];
        Assert.False(unrouted.GetProperty("attributes").TryGetProperty("http.route", out _));
        Assert.StartsWith("/unrouted/", unrouted.GetProperty("attributes").GetProperty("url.path").GetString(), StringComparison.Ordinal);
    }
}
