// A sample gRPC function over h2c: a method that succeeds and methods that fail as a real service would (a chosen
// status, a thrown exception, a stream that fails after it started). See samples/README.md.
using System.Globalization;
using System.Net;
using GrpcFunction;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging.Console;

var functionName = Environment.GetEnvironmentVariable("FUNCTION_NAME") is { Length: > 0 } n ? n : "orders";
var portText = Environment.GetEnvironmentVariable("PORT");
var port = 8080;
if (!string.IsNullOrEmpty(portText) && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535))
{
    Console.Error.WriteLine($"PORT={portText} is not a whole number from 0 to 65535");
    return 2;
}

var builder = WebApplication.CreateBuilder(args);
// gRPC without TLS: HTTP/2 with prior knowledge (h2c) only.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
// Set in code, not appsettings.json: the sidecar may start us from any working directory.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Error);
builder.Services.AddGrpc();
builder.Services.AddSingleton(new FunctionName(functionName));

var app = builder.Build();

// One stdout line per call, with the trace context the sidecar passed on.
app.Use((context, next) =>
{
    var traceparent = context.Request.Headers.TraceParent.ToString();
    Console.WriteLine($"{functionName}: {context.Request.Path}" + (traceparent.Length > 0 ? $" traceparent={traceparent}" : ""));
    return next(context);
});
app.MapGrpcService<OrdersService>();

app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"{functionName}: listening at {DateTime.UtcNow:O}"));
app.Run();
return 0;

internal sealed record FunctionName(string Value);
