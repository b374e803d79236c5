// The least a YARP forwarder can be: Kestrel, YARP's IHttpForwarder and one HttpMessageInvoker, with the socket
// settings obs-sidecar uses (Proxy/SocketTuning.cs) and nothing else: no tracing, metrics, snapshots or logs.
// bench/proxy/run.sh measures it beside nginx and obs-sidecar, so the report shows how much of the gap to nginx
// is the HTTP stacks themselves and how much is the sidecar's own work.
//
//   BareForwarder LISTEN_PORT UPSTREAM_PORT
using System.Globalization;
using System.Net;
using Yarp.ReverseProxy.Forwarder;

if (args.Length != 2 || !int.TryParse(args[0], CultureInfo.InvariantCulture, out var port) || !int.TryParse(args[1], CultureInfo.InvariantCulture, out var upstreamPort))
{
    Console.Error.WriteLine("usage: BareForwarder LISTEN_PORT UPSTREAM_PORT");
    return 2;
}

// Read by System.Net.Sockets at its first operation: before the host starts.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
var builder = WebApplication.CreateSlimBuilder([]);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
builder.WebHost.UseSockets(sockets =>
{
    sockets.UnsafePreferInlineScheduling = true;
    sockets.WaitForDataBeforeAllocatingBuffer = false;
});
builder.Services.AddHttpForwarder();
var app = builder.Build();

using var client = new HttpMessageInvoker(new SocketsHttpHandler
{
    UseProxy = false,
    AllowAutoRedirect = false,
    AutomaticDecompression = DecompressionMethods.None,
    UseCookies = false,
    ActivityHeadersPropagator = null,
});
var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
var upstream = $"http://127.0.0.1:{upstreamPort}/";
app.Run(async context => await forwarder.SendAsync(context, upstream, client, ForwarderRequestConfig.Empty, HttpTransformer.Default));
await app.RunAsync();
return 0;
