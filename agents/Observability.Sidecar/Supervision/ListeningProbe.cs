using System.Net;
using System.Net.Sockets;
using Observability.Sidecar.Configuration;

namespace Observability.Sidecar.Supervision;

/// <summary>
/// Tells when the function's port starts accepting connections, within about a millisecond of the moment it
/// did. While a start is in progress it tries to connect every millisecond, on a thread of its own: a sleep and a
/// blocking loopback connect wake one thread, where a timer and an async connect hop through the timer thread
/// and the thread pool, each a few milliseconds late on a busy machine. A refused loopback connect costs tens of
/// microseconds, and the fast pace is bounded: it lasts ReadyTimeout from the start of each wait (a request
/// would have given up by then), after which the probe tries every 5 ms without a thread of its own.
/// </summary>
internal sealed class ListeningProbe(SidecarOptions options, TimeProvider time)
{
    /// <summary>The pace while a start is in progress.</summary>
    public static readonly TimeSpan FastInterval = TimeSpan.FromMilliseconds(1);

    /// <summary>The pace after ReadyTimeout, for a function that takes very long or never listens.</summary>
    public static readonly TimeSpan SlowInterval = TimeSpan.FromMilliseconds(5);

    private readonly EndPoint _upstream = IPAddress.TryParse(options.UpstreamHost, out var address)
        ? new IPEndPoint(address, options.UpstreamPort)
        : new DnsEndPoint(options.UpstreamHost, options.UpstreamPort);

    /// <summary>
    /// Tries the upstream port until it accepts, <paramref name="keepTrying"/> says stop, or <paramref name="ct"/>
    /// is cancelled. Returns when it began listening: between the start of the last refused try and the start of
    /// the one that got in (each try connects right after it starts), so the middle of the two, give or take
    /// half the time between them (more than the pace when the machine held the probe up).
    /// </summary>
    public async Task<Moment?> WaitUntilAcceptingAsync(Func<bool> keepTrying, CancellationToken ct)
    {
        var fast = await Task.Factory.StartNew(() => ProbeFast(keepTrying, ct), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return fast ?? await ProbeSlowAsync(keepTrying, ct);
    }

    private Moment? ProbeFast(Func<bool> keepTrying, CancellationToken ct)
    {
        var began = time.GetTimestamp();
        DateTime? lastRefused = null;
        while (!ct.IsCancellationRequested && keepTrying() && time.GetElapsedTime(began) < options.ReadyTimeout)
        {
            var attempt = time.GetUtcNow().UtcDateTime;
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Connect(_upstream);
                if (!IsSelfConnect(socket))
                {
                    return Between(lastRefused, attempt);
                }
            }
            catch (SocketException)
            {
                lastRefused = attempt;
            }

            Thread.Sleep(FastInterval);
        }

        return null;
    }

    private async Task<Moment?> ProbeSlowAsync(Func<bool> keepTrying, CancellationToken ct)
    {
        DateTime? lastRefused = null;
        while (!ct.IsCancellationRequested && keepTrying())
        {
            var attempt = time.GetUtcNow().UtcDateTime;
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(_upstream, ct);
                if (!IsSelfConnect(socket))
                {
                    return Between(lastRefused, attempt);
                }
            }
            catch (SocketException)
            {
                lastRefused = attempt;
                await Task.Delay(SlowInterval, time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return null;
    }

    // A TCP self-connect (source port == the port probed) is not the function listening.
    private static bool IsSelfConnect(Socket socket) => Equals(socket.LocalEndPoint, socket.RemoteEndPoint);

    private static Moment Between(DateTime? refused, DateTime accepted) =>
        refused is { } r ? new(r + ((accepted - r) / 2), (accepted - r) / 2) : new(accepted, TimeSpan.Zero);
}
