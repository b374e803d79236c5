using System.Net.Sockets;
using Observability.Sidecar.Configuration;

namespace Observability.Sidecar.Supervision;

/// <summary>Tells when the function's port starts accepting connections.</summary>
internal sealed class ListeningProbe(SidecarOptions options, TimeProvider time)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(5);

    /// <summary>Connects to the upstream port every 5 ms until it accepts (the time it did), <paramref name="keepTrying"/> says stop, or <paramref name="ct"/> is cancelled.</summary>
    public async Task<DateTime?> WaitUntilAcceptingAsync(Func<bool> keepTrying, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested && keepTrying())
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(options.UpstreamHost, options.UpstreamPort, ct);
                // A TCP self-connect (source port == the port probed) is not the function listening.
                if (!Equals(socket.LocalEndPoint, socket.RemoteEndPoint))
                {
                    return time.GetUtcNow().UtcDateTime;
                }
            }
            catch (SocketException)
            {
                await Task.Delay(Interval, time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return null;
    }
}
