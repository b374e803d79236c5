using Microsoft.AspNetCore.Hosting;
using Observability.Sidecar.Configuration;

namespace Observability.Sidecar.Proxy;

/// <summary>
/// How the proxy's sockets are driven. A proxied request is four socket operations and almost no computation,
/// so thread hand-offs and wasted system calls were most of its cost (see docs/benchmarks.md).
/// </summary>
internal static class SocketTuning
{
    /// <summary>Read once by System.Net.Sockets, at its first asynchronous operation: set before the host starts.</summary>
    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static void Apply(IWebHostBuilder host, bool inlineIo)
    {
        // Inline: socket completions and Kestrel's continuations run on the epoll threads instead of being queued
        // to the thread pool. Only valid while nothing on the request path blocks: a blocked handler would stall
        // every connection of its epoll thread.
        if (inlineIo && Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            OwnEnvironment.Set(InlineCompletionsVariable, "1");
        }

        host.UseSockets(sockets =>
        {
            sockets.UnsafePreferInlineScheduling = inlineIo;
            // A read buffer per connection from the start, instead of a zero-byte read first: at light load one
            // failed peek less per request (strace), for 4 KiB per open connection.
            sockets.WaitForDataBeforeAllocatingBuffer = false;
        });
    }
}
