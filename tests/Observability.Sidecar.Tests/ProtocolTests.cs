using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>What passes through the proxy besides plain HTTP/1.1: WebSocket tunnels, h2c, streamed and large bodies.</summary>
public sealed class ProtocolTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task A_websocket_is_tunnelled_to_the_function_and_traced_as_101()
    {
        await using var sidecar = await SidecarRunner.StartAsync("ws-fn", _collector);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{sidecar.Port}/ws"), CancellationToken.None);
        var buffer = new byte[64];
        foreach (var text in new[] { "ping", "pong again" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal(text, Encoding.UTF8.GetString(buffer, 0, received.Count));
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var span = await SingleSpanAsync("ws-fn", "GET /ws");
        Assert.Equal(101, span.GetProperty("attributes").GetProperty("http.response.status_code").GetInt32());
    }

    [Fact]
    public async Task An_h2c_function_is_reached_over_http2_end_to_end()
    {
        await using var sidecar = await SidecarRunner.StartAsync("h2c-fn", _collector, "Http2=true", "FunctionEnvironment:Kestrel__EndpointDefaults__Protocols=Http2");
        using var client = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.GetAsync($"http://127.0.0.1:{sidecar.Port}/hello?name=h2");
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("hello, h2 from h2c-fn", await response.Content.ReadAsStringAsync());

        var span = await SingleSpanAsync("h2c-fn", "GET /hello");
        Assert.Equal("2", span.GetProperty("attributes").GetProperty("network.protocol.version").GetString());
    }

    [Fact]
    public async Task A_large_body_streams_through_unchanged_and_only_its_head_is_kept()
    {
        await using var sidecar = await SidecarRunner.StartAsync("big-body", _collector);
        var body = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(body);
        using var content = new ByteArrayContent(body);
        using var response = await sidecar.Client.PostAsync("/echo?status=500", content);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());

        var request = Assert.Single(await _collector.SnapshotsAsync("big-body", 1)).GetProperty("snapshot").GetProperty("request");
        Assert.Equal(body.Length, request.GetProperty("bodyBytes").GetInt64());
        Assert.True(request.GetProperty("bodyTruncated").GetBoolean());
        // Random bytes are no text the redactor can read: left out unless SnapshotBinaryBodies, and the snapshot says why.
        Assert.False(request.TryGetProperty("body", out _));
        Assert.Equal("not UTF-8 text", request.GetProperty("bodyOmitted").GetString());
    }

    [Fact]
    public async Task A_streamed_response_reaches_the_client_as_the_function_writes_it()
    {
        // The proxy holds small writes back to send a response in one piece; a part the function flushed must
        // still leave while the function waits. The function holds its last line for 60 s: the first must come now.
        await using var sidecar = await SidecarRunner.StartAsync("stream-fn", _collector);
        using var response = await sidecar.Client.GetAsync("/stream?hold=60000", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("first", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)));

        using var whole = await sidecar.Client.GetAsync("/stream?hold=10");
        Assert.Equal("first\nlast\n", await whole.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> SingleSpanAsync(string function, string name) => Assert.Single(await _collector.SpansAsync(function, name, n => n >= 1));
}
