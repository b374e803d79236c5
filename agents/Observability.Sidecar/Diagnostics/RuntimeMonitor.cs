using System.Net.Sockets;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Extensions.Logging;
using Observability.Sidecar.Diagnostics.Dumps;
using Observability.Sidecar.Diagnostics.Endpoints;
using Observability.Sidecar.Diagnostics.Pipelines;

namespace Observability.Sidecar.Diagnostics;

/// <summary>
/// Watches a .NET function through its runtime's diagnostics port (EventPipe): the startup profile, exceptions with
/// their stacks, GC, and dumps on demand. It ties together an endpoint (Endpoints/: the socket it listens on, or the
/// one a running process opened), the per-signal pipelines (Pipelines/) and dump operations (Dumps/).
/// <para>
/// Supervise mode (<see cref="Listen"/>, then <see cref="StartAsync"/>): the sidecar listens on a Unix socket and the
/// child's runtime connects to it suspended, so every startup event is seen before ResumeRuntime. Attach mode
/// (<see cref="AttachAsync"/>): connects to a running process's own socket; its startup is already over.
/// </para>
/// <para>
/// Two EventPipe sessions (<see cref="SessionProviders"/>): a verbose startup session stopped and drained by
/// <see cref="EndStartupAsync"/>, and a light session (exceptions, GC, error logs) for the monitor's whole life.
/// </para>
/// <para>
/// A monitor does not own the process: a child it leaves suspended (only when even ResumeRuntime failed) must be
/// killed by the caller.
/// </para>
/// </summary>
public sealed partial class RuntimeMonitor : IAsyncDisposable
{
    // A logger the session enables also sends its scopes, whatever their level: ASP.NET Core's hosting logger opens
    // one per request, serialized to JSON (measured: about 7 µs of the function's CPU per request). The session's
    // FilterSpecs cannot turn one category off (any value with a colon, even "*:4", disables the provider over this
    // client; without a colon no level can be given), so the function's own logging configuration does: for apps
    // that read configuration from the environment, as ASP.NET Core and the .NET generic host do. That logger's only error, a startup failure, still reaches the
    // snapshot through the runtime's exception events and stderr.
    private const string QuietRequestScopeVariable = "Logging__EventSource__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics";

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ExceptionPipeline _exceptions;
    private readonly GcPipeline _gc = new();
    private readonly Lock _gate = new();
    private readonly ListeningEndpoint? _endpoint;
    private DiagnosticsClientConnector? _connector;
    private int _pid;
    private StartupPipeline? _startup;
    private PipelineSession? _lightSession;
    private Task<StartupProfile>? _profile;
    private int _started;
    private int _disposed;

    private RuntimeMonitor(ILogger logger, TimeProvider time, ListeningEndpoint endpoint)
    {
        _logger = logger;
        _time = time;
        _exceptions = new ExceptionPipeline(RaiseUnhandled);
        _endpoint = endpoint;
        ChildEnvironment = new Dictionary<string, string> { [ListeningEndpoint.PortsVariable] = endpoint.SocketPath, [QuietRequestScopeVariable] = "None" };
    }

    private RuntimeMonitor(ILogger logger, TimeProvider time, int pid, DiagnosticsClientConnector connector)
    {
        _logger = logger;
        _time = time;
        _exceptions = new ExceptionPipeline(RaiseUnhandled);
        _pid = pid;
        _connector = connector;
        ChildEnvironment = new Dictionary<string, string>();
    }

    /// <summary>Raised (on an event-reading thread) for an exception the app reports as unhandled.</summary>
    public event Action<RuntimeException>? UnhandledException;

    /// <summary>
    /// Environment for the child so its runtime connects to this monitor and waits, suspended, for ResumeRuntime
    /// (connect and suspend are the runtime's defaults for a diagnostic port). Empty in attach mode.
    /// </summary>
    public IReadOnlyDictionary<string, string> ChildEnvironment { get; }

    /// <summary>When the child's runtime connected (supervise mode): the "runtime ready" phase of the cold start.</summary>
    public DateTime? RuntimeConnected => _endpoint?.Connected;

    /// <summary>When ResumeRuntime returned: the time since <see cref="RuntimeConnected"/> is what monitoring added to the cold start.</summary>
    public DateTime? RuntimeResumed { get; private set; }

    /// <summary>The GC heap size after the last GC seen, or null before one.</summary>
    public long? GcHeapBytes => _gc.HeapBytes;

    /// <summary>The process's GC count as of the last GC seen (the runtime's own index), or null before one.</summary>
    public int? GcCount => _gc.Count;

    /// <summary>Bounds every IPC command: a runtime that stopped answering must not hang the sidecar.</summary>
    internal static TimeSpan CommandTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Supervise mode. Call before starting the child: starts listening on a fresh Unix socket at
    /// <paramref name="socketPath"/> (a stale file there is deleted first, else the bind fails).
    /// </summary>
    public static RuntimeMonitor Listen(string socketPath, ILogger logger, TimeProvider time) =>
        new(logger, time, ListeningEndpoint.Listen(socketPath, logger, time));

    /// <summary>
    /// Supervise mode, after the child started: waits up to <paramref name="connectTimeout"/> for its runtime to
    /// connect, starts the EventPipe sessions and resumes the runtime. False when nothing connected in time (the child
    /// is not .NET) or monitoring could not start; a runtime that did connect has then been resumed, unless even that
    /// failed (logged as an error): the caller must kill that child.
    /// </summary>
    public async Task<bool> StartAsync(int pid, TimeSpan connectTimeout, CancellationToken ct)
    {
        if (_endpoint is null)
        {
            throw new InvalidOperationException("Only a listening monitor is started; AttachAsync returns a running one.");
        }

        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new InvalidOperationException("StartAsync was already called.");
        }

        _pid = pid;
        var connector = await _endpoint.ConnectAsync(connectTimeout, ct).ConfigureAwait(false);
        if (connector is null)
        {
            LogNoRuntime(_logger, pid, connectTimeout.TotalMilliseconds);
            ct.ThrowIfCancellationRequested();
            return false;
        }

        _connector = connector;
        try
        {
            using var timeout = new CancellationTokenSource(CommandTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            _startup = await StartupPipeline.StartAsync(connector.Instance, _logger, pid, _time, linked.Token).ConfigureAwait(false);
            _lightSession = await StartLightSessionAsync(connector.Instance, linked.Token).ConfigureAwait(false);
            // The function's own children must not inherit the port: a .NET grandchild would connect (or fail to) and
            // wait suspended for a resume that never comes.
            await RunBlocking(() => connector.Instance.SetEnvironmentVariable(ListeningEndpoint.PortsVariable, "")).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever failed, the suspended function must be resumed.
        catch (Exception e)
#pragma warning restore CA1031
        {
            var resumed = await TryResumeAsync(connector).ConfigureAwait(false);
            LogStartFailed(_logger, e, pid, resumed);
            await StopSessionsAsync().ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            return false;
        }

        if (!await TryResumeAsync(connector).ConfigureAwait(false))
        {
            return false;
        }

        var now = _time.GetUtcNow().UtcDateTime;
        RuntimeResumed = now;
        var suspended = now - (RuntimeConnected ?? now);
        LogMonitoring(_logger, pid, suspended.TotalMilliseconds);
        return true;
    }

    /// <summary>
    /// Attach mode: connects to a running process's own diagnostic socket (dotnet-diagnostic-PID-*-socket in our
    /// TMPDIR or the process's) and starts the light session. Null when the process has none (not .NET, or
    /// diagnostics disabled) or it does not answer.
    /// </summary>
    public static async Task<RuntimeMonitor?> AttachAsync(int pid, ILogger logger, TimeProvider time, CancellationToken ct)
    {
        var socket = ProcessSocket.Find(pid);
        if (socket is null)
        {
            LogNoSocket(logger, pid);
            return null;
        }

        // Connect mode does no I/O here: each command connects to the socket.
        var connector = await DiagnosticsClientConnector.FromDiagnosticPort(socket + ",connect", ct).ConfigureAwait(false);
        var monitor = new RuntimeMonitor(logger, time, pid, connector);
        try
        {
            using var timeout = new CancellationTokenSource(CommandTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            monitor._lightSession = await monitor.StartLightSessionAsync(connector.Instance, linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ServerNotAvailableException or ServerErrorException or IOException or SocketException or OperationCanceledException)
        {
            // A stale socket (its process is gone, the pid reused) refuses the connection.
            LogAttachFailed(logger, pid, socket, e.Message);
            await monitor.DisposeAsync().ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            return null;
        }

        LogAttached(logger, pid, socket);
        return monitor;
    }

    /// <summary>
    /// Summarises startup (everything seen until now) and stops the verbose startup session, so the function stops
    /// paying for JIT and loader events; the light session goes on. Idempotent: every call returns the same profile.
    /// </summary>
    public Task<StartupProfile> EndStartupAsync(CancellationToken ct)
    {
        Task<StartupProfile> profile;
        lock (_gate)
        {
            // Not tied to the first caller's token: a second caller must get the same, complete profile.
            profile = _profile ??= _startup is { } startup ? startup.EndAsync() : Task.FromResult(StartupProfile.Empty);
        }

        return profile.WaitAsync(ct);
    }

    /// <summary>Exceptions the runtime reported at or after <paramref name="sinceUtc"/> (of the last 50), newest last.</summary>
    public IReadOnlyList<RuntimeException> ExceptionsSince(DateTime sinceUtc) => _exceptions.Since(sinceUtc);

    /// <summary>
    /// Has the runtime write a dump into <paramref name="directory"/> (created owner-only: a dump holds process memory).
    /// A dump over <paramref name="maxBytes"/> is deleted once written (createdump cannot be bounded while it writes)
    /// and reported as an <see cref="DumpResult.Error"/>, as is a dump the runtime could not write.
    /// </summary>
    public Task<DumpResult> WriteDumpAsync(string directory, DumpKind kind, long maxBytes, CancellationToken ct)
    {
        var client = _connector?.Instance ?? throw new InvalidOperationException("The monitor is not connected to a runtime.");
        return new DumpOperation(client, _pid, _logger, _time).WriteAsync(directory, kind, maxBytes, ct);
    }

    /// <summary>Stops the sessions and the listener. The process goes on; a connected runtime never resumed is resumed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_endpoint is not null && _connector is null && await _endpoint.StopAsync().ConfigureAwait(false) is { } late)
        {
            // Connected, but StartAsync never ran: do not leave it suspended.
            _ = await TryResumeAsync(late).ConfigureAwait(false);
            _connector = late;
        }

        await StopSessionsAsync().ConfigureAwait(false);
        if (_connector is not null)
        {
            await _connector.DisposeAsync().ConfigureAwait(false);
        }

        _endpoint?.Dispose();
    }

    private Task<PipelineSession> StartLightSessionAsync(DiagnosticsClient client, CancellationToken ct) =>
        PipelineSession.StartAsync(client, SessionProviders.Light, 8, SubscribeLight, _logger, _pid, _time, ct);

    private void SubscribeLight(EventPipeEventSource source)
    {
        _exceptions.Subscribe(source);
        _gc.Subscribe(source);
    }

    private void RaiseUnhandled(RuntimeException exception)
    {
        try
        {
            UnhandledException?.Invoke(exception);
        }
#pragma warning disable CA1031 // A subscriber's bug must not end the event reading.
        catch (Exception handlerError)
#pragma warning restore CA1031
        {
            LogHandlerFailed(_logger, handlerError, _pid);
        }
    }

    private async Task<bool> TryResumeAsync(DiagnosticsClientConnector connector)
    {
        try
        {
            await RunBlocking(connector.Instance.ResumeRuntime).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is ServerNotAvailableException or ServerErrorException or IOException or TimeoutException)
        {
            LogResumeFailed(_logger, e, _pid);
            return false;
        }
    }

    /// <summary>
    /// ResumeRuntime and SetEnvironmentVariable are synchronous only: they block until the runtime's next connection,
    /// which the server accepts on the thread pool. On a thread of their own they cannot starve it (measured on a
    /// pool thread: one call took 660 ms instead of 3).
    /// </summary>
    private static Task RunBlocking(Action command) =>
        Task.Factory.StartNew(command, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private async Task StopSessionsAsync()
    {
        if (_startup is { } startup)
        {
            await startup.StopAsync().ConfigureAwait(false);
        }

        if (_lightSession is { } light)
        {
            await light.StopAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Runtime of pid {Pid} connected; monitoring it, resumed after {SuspendedMs:F1} ms suspended")]
    private static partial void LogMonitoring(ILogger logger, int pid, double suspendedMs);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "No .NET runtime connected within {TimeoutMs} ms for pid {Pid}: no runtime monitoring")]
    private static partial void LogNoRuntime(ILogger logger, int pid, double timeoutMs);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Error, Message = "Could not start monitoring the runtime of pid {Pid}; resumed it: {Resumed}")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, int pid, bool resumed);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Error, Message = "Could not resume the runtime of pid {Pid}: it stays suspended until killed")]
    private static partial void LogResumeFailed(ILogger logger, Exception exception, int pid);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Debug, Message = "Pid {Pid} has no diagnostic socket (not .NET, or diagnostics disabled)")]
    private static partial void LogNoSocket(ILogger logger, int pid);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Warning, Message = "Could not attach to pid {Pid} through {Socket}: {Reason}")]
    private static partial void LogAttachFailed(ILogger logger, int pid, string socket, string reason);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Information, Message = "Attached to the runtime of pid {Pid} through {Socket}")]
    private static partial void LogAttached(ILogger logger, int pid, string socket);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "An UnhandledException handler failed (pid {Pid})")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, int pid);
}
