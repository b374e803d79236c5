// A sample HTTP function: every behaviour the sidecar has to observe (slow init, errors, crashes,
// slow responses, downstream calls, bodies) behind one endpoint each. See samples/README.md.
using System.Globalization;
using Microsoft.Extensions.Logging.Console;

var functionName = Environment.GetEnvironmentVariable("FUNCTION_NAME") is { Length: > 0 } n ? n : "hello";
var port = ReadInt("PORT", 0, 65535);
var initDelayMs = ReadInt("INIT_DELAY_MS", 0, int.MaxValue) ?? 0;

var builder = WebApplication.CreateBuilder(args);
// PORT wins; without it ASPNETCORE_URLS (or --urls) is honoured; without either, 127.0.0.1:8080.
if (port is not null || string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls($"http://127.0.0.1:{port ?? 8080}");
}

// Set in code, not appsettings.json: the sidecar may start us from any working directory.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Error);

// No automatic trace-context injection: /call passes on exactly the headers it received.
string[] traceHeaders = ["traceparent", "tracestate"];
using var http = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null });

var app = builder.Build();

using var ownTracing = Environment.GetEnvironmentVariable("HELLO_TRACING") == "otlp" ? HelloFunction.OwnTracing.Start(functionName) : null;
if (ownTracing is not null)
{
    app.Use(HelloFunction.OwnTracing.TraceAsync);
}

// One stdout line per request (not for /healthz, which probes would flood the sidecar's log tail with).
app.Use((context, next) =>
{
    if (context.Request.Path != "/healthz")
    {
        var traceparent = context.Request.Headers.TraceParent.ToString();
        Console.WriteLine($"{functionName}: {context.Request.Method} {context.Request.Path}{context.Request.QueryString}"
            + (traceparent.Length > 0 ? $" traceparent={traceparent}" : ""));
    }

    return next(context);
});

app.MapGet("/", () => $"hello, world from {functionName}");
app.MapGet("/hello", (string? name) => $"hello, {name ?? "world"} from {functionName}");
app.MapGet("/healthz", () => "ok");
// The request headers as the function received them, one "Name: value" a line: what a proxy in front passed on.
app.MapGet("/headers", (HttpRequest request) => string.Join('\n', request.Headers.Select(h => $"{h.Key}: {h.Value}")));

// ?msg= sets the message, ?delay= (ms) waits first: concurrent failures, each with its own exception.
app.MapGet("/throw", async Task<string> (string? msg, int? delay, CancellationToken ct) =>
{
    if (delay > 0)
    {
        await Task.Delay(delay.Value, ct);
    }

    throw new InvalidOperationException(msg ?? $"sample failure: {functionName} was asked to throw");
});

// Work that fails after the response, as a fire-and-forget job would: the app logs it as unhandled (Critical).
app.MapPost("/background-failure", (ILoggerFactory loggers) =>
{
    var logger = loggers.CreateLogger("HelloFunction.Background");
    _ = Task.Run(async () =>
    {
        try
        {
            await Task.Delay(50);
            throw new InvalidOperationException($"background failure in {functionName}");
        }
        catch (InvalidOperationException e)
        {
#pragma warning disable CA1848 // A sample: plain logging calls read better than generated ones.
            logger.LogCritical(e, "Unhandled exception in background work");
#pragma warning restore CA1848
        }
    });
    return Results.Accepted();
});

app.MapGet("/crash", () =>
{
    Console.Error.WriteLine($"{functionName}: crashing on request, exit code 3");
    Environment.Exit(3);
});

app.MapGet("/slow", async (int? ms, CancellationToken ct) =>
{
    var delay = Math.Max(ms ?? 1000, 0);
    await Task.Delay(delay, ct);
    return $"slept {delay} ms";
});

// A streamed answer: a first line at once, the last one after ?hold= ms (default 1000), as server-sent events or a
// long download would arrive.
app.MapGet("/stream", async (HttpContext context, int? hold) =>
{
    context.Response.ContentType = "text/plain; charset=utf-8";
    await context.Response.WriteAsync("first\n", context.RequestAborted);
    await context.Response.Body.FlushAsync(context.RequestAborted);
    await Task.Delay(Math.Max(hold ?? 1000, 0), context.RequestAborted);
    await context.Response.WriteAsync("last\n", context.RequestAborted);
});

app.MapGet("/call", async (string url, HttpRequest request, CancellationToken ct) =>
{
    if (!Uri.TryCreate(url, UriKind.Absolute, out var target) || (target.Scheme != "http" && target.Scheme != "https"))
    {
        return Results.Text($"not an absolute http(s) URL: {url}", statusCode: StatusCodes.Status400BadRequest);
    }

    using var call = new HttpRequestMessage(HttpMethod.Get, target);
    foreach (var header in traceHeaders)
    {
        if (request.Headers.TryGetValue(header, out var value))
        {
            call.Headers.TryAddWithoutValidation(header, (IEnumerable<string?>)value);
        }
    }

    try
    {
        using var response = await http.SendAsync(call, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        return Results.Text($"called {url}: {(int)response.StatusCode} {body}");
    }
    catch (HttpRequestException e)
    {
        return Results.Text($"call to {url} failed: {e.Message}", statusCode: StatusCodes.Status502BadGateway);
    }
});

// A WebSocket that echoes every message until the client closes: the sidecar must tunnel upgrades untouched.
app.UseWebSockets();
app.Map("/ws", async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var buffer = new byte[4096];
    while (true)
    {
        var message = await socket.ReceiveAsync(buffer, context.RequestAborted);
        if (message.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
        {
            await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
            return;
        }

        await socket.SendAsync(buffer.AsMemory(0, message.Count), message.MessageType, message.EndOfMessage, context.RequestAborted);
    }
});

// Echoes the body back; with ?status=500 (any 200-599) answers with that status: a failure with a body both ways.
app.MapPost("/echo", async (HttpContext context, int? status) =>
{
    if (status is < 200 or > 599)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.Response.WriteAsync($"status must be 200-599, not {status}");
        return;
    }

    using var body = new MemoryStream();
    await context.Request.Body.CopyToAsync(body, context.RequestAborted);
    context.Response.StatusCode = status ?? StatusCodes.Status200OK;
    context.Response.ContentType = context.Request.ContentType ?? "application/octet-stream";
    await context.Response.Body.WriteAsync(body.ToArray(), context.RequestAborted);
});

// Writes each line of the body to stdout, then throws with the last line in the message: a failure whose log
// lines and exception carry what the caller chose (the redaction tests plant secrets there).
app.MapPost("/log-then-throw", async (HttpContext context) =>
{
    using var reader = new StreamReader(context.Request.Body);
    var lines = (await reader.ReadToEndAsync(context.RequestAborted)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    foreach (var line in lines)
    {
        Console.WriteLine($"{functionName}: {line}");
    }

    throw new InvalidOperationException($"failed after logging: {(lines.Length > 0 ? lines[^1] : "nothing")}");
});

if (initDelayMs > 0)
{
    // Simulated slow init (e.g. loading a model): the port is not open until this has passed.
    Console.WriteLine($"{functionName}: init, sleeping {initDelayMs} ms before listening");
    Thread.Sleep(initDelayMs);
}

// The function's own account of when it could take requests, so tests can check the sidecar's timing against it.
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"{functionName}: listening at {DateTime.UtcNow:O}"));
app.Run();

static int? ReadInt(string variable, int min, int max)
{
    var text = Environment.GetEnvironmentVariable(variable);
    if (string.IsNullOrEmpty(text))
    {
        return null;
    }

    if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
    {
        return value;
    }

    Console.Error.WriteLine($"{variable}={text} is not a whole number from {min} to {max}");
    Environment.Exit(2);
    return null;
}
