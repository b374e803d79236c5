using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Extensions.Logging;

namespace Observability.Sidecar.Diagnostics.Pipelines;

/// <summary>One EventPipe session and the thread reading it into its pipelines' handlers.</summary>
internal sealed partial class PipelineSession
{
    // Stopping makes the runtime flush and end the stream; the reader then drains what TraceEvent held.
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);
    private readonly EventPipeSession _session;
    private readonly Task _reader;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Task? _stopped;

    private PipelineSession(EventPipeSession session, Task reader, TimeProvider time)
    {
        _session = session;
        _reader = reader;
        _time = time;
    }

    /// <summary>Starts the session; <paramref name="subscribe"/> attaches the handlers on the reading thread, before the first event.</summary>
    public static async Task<PipelineSession> StartAsync(DiagnosticsClient client, EventPipeProvider[] providers, int bufferMb, Action<EventPipeEventSource> subscribe, ILogger logger, int pid, TimeProvider time, CancellationToken ct)
    {
        // No rundown: it enumerates every loaded method at the end, thousands of events nobody reads here.
        var session = await client.StartEventPipeSessionAsync(providers, requestRundown: false, bufferMb, ct).ConfigureAwait(false);
        var reader = Task.Factory.StartNew(() => Read(session, subscribe, logger, pid), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return new PipelineSession(session, reader, time);
    }

    /// <summary>Stops the session and waits until its events have been read. Idempotent.</summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stopped ??= StopOnceAsync();
        }
    }

    private async Task StopOnceAsync()
    {
        using var timeout = new CancellationTokenSource(RuntimeMonitor.CommandTimeout, _time);
        var stop = _session.StopAsync(timeout.Token);
        try
        {
            // A stream that ended by itself (the process exited) needs no stop, and a dead runtime would never
            // answer one: in listen mode the command waits for a connection that does not come.
            if (await Task.WhenAny(stop, _reader).ConfigureAwait(false) == _reader)
            {
                await timeout.CancelAsync().ConfigureAwait(false);
            }

            await stop.ConfigureAwait(false);
            await _reader.WaitAsync(DrainTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ServerNotAvailableException or ServerErrorException or IOException or OperationCanceledException or TimeoutException)
        {
            // Gone or not answering: closing the stream below ends the reader.
        }
        finally
        {
            _session.Dispose();
        }

        await _reader.ConfigureAwait(false);
    }

    private static void Read(EventPipeSession session, Action<EventPipeEventSource> subscribe, ILogger logger, int pid)
    {
        try
        {
            using var source = new EventPipeEventSource(session.EventStream);
            subscribe(source);
            source.Process();
        }
#pragma warning disable CA1031 // The stream ends abruptly when the process dies or the session is disposed; that ends reading, nothing else.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogReadEnded(logger, e, pid);
        }
    }

    [LoggerMessage(EventId = 3110, Level = LogLevel.Debug, Message = "Event reading for pid {Pid} ended abruptly (the process exited, or the session was closed)")]
    private static partial void LogReadEnded(ILogger logger, Exception exception, int pid);
}
