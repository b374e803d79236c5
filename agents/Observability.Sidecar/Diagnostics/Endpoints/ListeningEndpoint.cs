using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Logging;

namespace Observability.Sidecar.Diagnostics.Endpoints;

/// <summary>
/// Supervise mode's endpoint: a Unix socket the sidecar listens on, which the child's runtime connects to and then
/// waits, suspended, for ResumeRuntime (connect and suspend are the runtime's defaults for a diagnostic port).
/// </summary>
internal sealed partial class ListeningEndpoint : IDisposable
{
    /// <summary>The variable that points a .NET child's runtime at the socket.</summary>
    public const string PortsVariable = "DOTNET_DiagnosticPorts";

    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _listening;
    private readonly Task<DiagnosticsClientConnector?> _connecting;
    private long _connectedTicks = -1;

    private ListeningEndpoint(string socketPath, TimeProvider time, CancellationTokenSource listening, Task<DiagnosticsClientConnector?> connecting)
    {
        SocketPath = socketPath;
        _time = time;
        _listening = listening;
        _connecting = StampConnectedAsync(connecting);
    }

    public string SocketPath { get; }

    /// <summary>When the child's runtime connected: the "runtime ready" phase of the cold start.</summary>
    public DateTime? Connected => Interlocked.Read(ref _connectedTicks) is >= 0 and var ticks ? new DateTime(ticks, DateTimeKind.Utc) : null;

    /// <summary>
    /// Starts listening on a fresh Unix socket at <paramref name="socketPath"/> (a stale file there is deleted first,
    /// else the bind fails).
    /// </summary>
    public static ListeningEndpoint Listen(string socketPath, ILogger logger, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        // The runtime reads DOTNET_DiagnosticPorts as "address[,option...][;address...]".
        if (socketPath.AsSpan().IndexOfAny(',', ';') >= 0)
        {
            throw new ArgumentException("A diagnostic socket path cannot contain ',' or ';'.", nameof(socketPath));
        }

        var path = Path.GetFullPath(socketPath);
        File.Delete(path);
        var listening = new CancellationTokenSource();
        // The server binds before FromDiagnosticPort's first await: the socket exists when this returns.
        var connecting = DiagnosticsClientConnector.FromDiagnosticPort(path + ",listen", listening.Token);
        if (connecting.IsFaulted)
        {
            listening.Dispose();
            connecting.GetAwaiter().GetResult(); // throws why the bind failed
        }

        LogListening(logger, path);
        return new ListeningEndpoint(path, time, listening, connecting);
    }

    /// <summary>
    /// The runtime that connects within <paramref name="timeout"/>; null when none did (listening has then stopped).
    /// </summary>
    public async Task<DiagnosticsClientConnector?> ConnectAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            return await _connecting.WaitAsync(timeout, _time, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return await StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops accepting; returns a runtime that connected in the meantime (it must still be resumed), if any.</summary>
    public async Task<DiagnosticsClientConnector?> StopAsync()
    {
        await _listening.CancelAsync().ConfigureAwait(false);
        try
        {
            return await _connecting.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException)
        {
            return null;
        }
        finally
        {
            Files.TryDelete(SocketPath);
        }
    }

    public void Dispose()
    {
        Files.TryDelete(SocketPath);
        _listening.Dispose();
    }

    private async Task<DiagnosticsClientConnector?> StampConnectedAsync(Task<DiagnosticsClientConnector?> connecting)
    {
        // Stamped here, not when the monitor gets round to it, so the time is when the runtime actually connected.
        var connector = await connecting.ConfigureAwait(false);
        if (connector is not null)
        {
            Interlocked.Exchange(ref _connectedTicks, _time.GetUtcNow().UtcDateTime.Ticks);
        }

        return connector;
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "Listening on {Socket} for the function's runtime")]
    private static partial void LogListening(ILogger logger, string socket);
}
