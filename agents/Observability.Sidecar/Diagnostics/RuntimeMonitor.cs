using System.Diagnostics.Tracing;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Extensions.Logging;

namespace Observability.Sidecar.Diagnostics;

/// <summary>
/// Watches a .NET function through its runtime's diagnostics port (EventPipe): the startup profile, exceptions with
/// their stacks, GC, and dumps on demand.
/// <para>
/// Supervise mode (<see cref="Listen"/>, then <see cref="StartAsync"/>): the sidecar listens on a Unix socket and the
/// child's runtime connects to it suspended, so every startup event is seen before ResumeRuntime. Attach mode
/// (<see cref="AttachAsync"/>): connects to a running process's own socket; its startup is already over.
/// </para>
/// <para>
/// Two EventPipe sessions: a verbose startup session (loader, JIT, GC) stopped and drained by
/// <see cref="EndStartupAsync"/>, and a light session (exceptions, GC, error logs) for the monitor's whole life. Running
/// the light one from the start means switching leaves no gap in which an exception could be missed, and no event
/// kind is read from two sessions (no duplicates).
/// </para>
/// <para>
/// A monitor does not own the process: a child it leaves suspended (only when even ResumeRuntime failed) must be
/// killed by the caller.
/// </para>
/// </summary>
public sealed partial class RuntimeMonitor : IAsyncDisposable
{
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private const string LoggingProvider = "Microsoft-Extensions-Logging";
    private const long GcKeyword = 0x1;
    private const long AssemblyLoaderKeyword = 0x4; // no enum value in TraceEvent 4.0.0
    private const long LoaderKeyword = 0x8;
    private const long JitKeyword = 0x10;
    private const long ExceptionKeyword = 0x8000;
    private const long JsonMessageKeyword = 0x8; // LoggingEventSource.Keywords.JsonMessage: the exception as JSON, with its full text
    private const string PortsVariable = "DOTNET_DiagnosticPorts";

    // A logger the session enables also sends its scopes, whatever their level: ASP.NET Core's hosting logger opens
    // one per request, serialized to JSON (measured: about 7 µs of the function's CPU per request). The session's
    // FilterSpecs cannot turn one category off (any value with a colon, even "*:4", disables the provider over this
    // client; without a colon no level can be given), so the function's own logging configuration does: for apps
    // that read configuration from the environment, as ASP.NET Core and the .NET generic host do. That logger's only error, a startup failure, still reaches the
    // snapshot through the runtime's exception events and stderr.
    private const string QuietRequestScopeVariable = "Logging__EventSource__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics";
    private const int ExceptionsKept = 50;

    // Bounds every IPC command: a runtime that stopped answering must not hang the sidecar.
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);

    // JIT start events are Verbose.
    private static readonly EventPipeProvider[] StartupProviders =
        [new(RuntimeProvider, EventLevel.Verbose, GcKeyword | AssemblyLoaderKeyword | LoaderKeyword | JitKeyword)];

    // Informational leaves out the per-allocation GC events; Error on the logging provider means error logs only.
    // The runtime counters, once a second, are the light session's clock: TraceEvent holds the events of a quiet
    // session until later ones arrive (measured: an exception stayed unseen until the session ended), and their
    // batch of ~26 events a second lets it hand over what it holds within about a second.
    private static readonly EventPipeProvider[] LightProviders =
    [
        new(RuntimeProvider, EventLevel.Informational, GcKeyword | ExceptionKeyword),
        new(LoggingProvider, EventLevel.Error, JsonMessageKeyword),
        new("System.Runtime", EventLevel.Informational, 0, new Dictionary<string, string> { ["EventCounterIntervalSec"] = "1" }),
    ];

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ExceptionLog _exceptions = new(ExceptionsKept);
    private readonly Lock _gate = new();
    private readonly string? _socketPath;
    private readonly CancellationTokenSource? _listening;
    private readonly Task<DiagnosticsClientConnector?>? _connecting;
    private DiagnosticsClientConnector? _connector;
    private int _pid;
    private Session? _startupSession;
    private Session? _lightSession;
    private StartupCollector? _startup;
    private Task<StartupProfile>? _profile;
    private long _connectedTicks = -1;
    private long _gcHeapBytes = -1;
    private int _gcCount = -1;
    private int _started;
    private int _disposed;

    private RuntimeMonitor(ILogger logger, TimeProvider time, string socketPath, CancellationTokenSource listening, Task<DiagnosticsClientConnector?> connecting)
    {
        _logger = logger;
        _time = time;
        _socketPath = socketPath;
        _listening = listening;
        _connecting = StampConnectedAsync(connecting);
        ChildEnvironment = new Dictionary<string, string> { [PortsVariable] = socketPath, [QuietRequestScopeVariable] = "None" };
    }

    private RuntimeMonitor(ILogger logger, TimeProvider time, int pid, DiagnosticsClientConnector connector)
    {
        _logger = logger;
        _time = time;
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
    public DateTime? RuntimeConnected => Interlocked.Read(ref _connectedTicks) is >= 0 and var ticks ? new DateTime(ticks, DateTimeKind.Utc) : null;

    /// <summary>When ResumeRuntime returned: the time since <see cref="RuntimeConnected"/> is what monitoring added to the cold start.</summary>
    public DateTime? RuntimeResumed { get; private set; }

    /// <summary>The GC heap size after the last GC seen, or null before one.</summary>
    public long? GcHeapBytes => Interlocked.Read(ref _gcHeapBytes) is >= 0 and var bytes ? bytes : null;

    /// <summary>The process's GC count as of the last GC seen (the runtime's own index), or null before one.</summary>
    public int? GcCount => Volatile.Read(ref _gcCount) is >= 0 and var count ? count : null;

    /// <summary>
    /// Supervise mode. Call before starting the child: starts listening on a fresh Unix socket at
    /// <paramref name="socketPath"/> (a stale file there is deleted first, else the bind fails).
    /// </summary>
    public static RuntimeMonitor Listen(string socketPath, ILogger logger, TimeProvider time)
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
        return new RuntimeMonitor(logger, time, path, listening, connecting);
    }

    /// <summary>
    /// Supervise mode, after the child started: waits up to <paramref name="connectTimeout"/> for its runtime to
    /// connect, starts the EventPipe sessions and resumes the runtime. False when nothing connected in time (the child
    /// is not .NET) or monitoring could not start; a runtime that did connect has then been resumed, unless even that
    /// failed (logged as an error): the caller must kill that child.
    /// </summary>
    public async Task<bool> StartAsync(int pid, TimeSpan connectTimeout, CancellationToken ct)
    {
        if (_connecting is null || _socketPath is null)
        {
            throw new InvalidOperationException("Only a listening monitor is started; AttachAsync returns a running one.");
        }

        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new InvalidOperationException("StartAsync was already called.");
        }

        _pid = pid;
        DiagnosticsClientConnector? connector = null;
        try
        {
            connector = await _connecting.WaitAsync(connectTimeout, _time, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            connector = await StopListeningAsync().ConfigureAwait(false);
        }

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
            _startup = new StartupCollector();
            _startupSession = await Session.StartAsync(connector.Instance, StartupProviders, 32, _startup.Subscribe, this, linked.Token).ConfigureAwait(false);
            _lightSession = await Session.StartAsync(connector.Instance, LightProviders, 8, SubscribeLight, this, linked.Token).ConfigureAwait(false);
            // The function's own children must not inherit the port: a .NET grandchild would connect (or fail to) and
            // wait suspended for a resume that never comes.
            await RunBlocking(() => connector.Instance.SetEnvironmentVariable(PortsVariable, "")).ConfigureAwait(false);
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
        var socket = FindDiagnosticSocket(pid);
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
            monitor._lightSession = await Session.StartAsync(connector.Instance, LightProviders, 8, monitor.SubscribeLight, monitor, linked.Token).ConfigureAwait(false);
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
    /// paying for JIT and loader events; the light session goes on. The session is stopped and drained first because
    /// TraceEvent may hold events until a session ends. Idempotent: every call returns the same profile.
    /// </summary>
    public Task<StartupProfile> EndStartupAsync(CancellationToken ct)
    {
        Task<StartupProfile> profile;
        lock (_gate)
        {
            // Not tied to the first caller's token: a second caller must get the same, complete profile.
            profile = _profile ??= SummariseStartupAsync();
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
    public async Task<DumpResult> WriteDumpAsync(string directory, DumpKind kind, long maxBytes, CancellationToken ct)
    {
        var client = _connector?.Instance ?? throw new InvalidOperationException("The monitor is not connected to a runtime.");
        if (!Directory.Exists($"/proc/{_pid}"))
        {
            // In listen mode a command to an exited runtime would wait for a connection until ct is cancelled.
            return new DumpResult(null, 0, $"Process {_pid} has exited: no {kind} dump.");
        }

        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var stamp = _time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture);
        var path = Path.Combine(Path.GetFullPath(directory), $"dump-{_pid}-{stamp}-{kind.ToString().ToLowerInvariant()}.dmp");
        var started = _time.GetTimestamp();
        try
        {
            await client.WriteDumpAsync(DumpTypeOf(kind), path, WriteDumpFlags.None, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ServerNotAvailableException or ServerErrorException or IOException)
        {
            TryDelete(path);
            LogDumpFailed(_logger, _pid, kind, e.Message);
            return new DumpResult(null, 0, $"The runtime could not write a {kind} dump: {e.Message}");
        }

        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return new DumpResult(null, 0, $"The runtime reported a {kind} dump written to {path}, but there is no such file.");
        }

        if (file.Length > maxBytes)
        {
            TryDelete(path);
            LogDumpTooLarge(_logger, _pid, kind, file.Length, maxBytes);
            return new DumpResult(null, file.Length, $"The {kind} dump was {file.Length} bytes, over the limit of {maxBytes} bytes, and was deleted.");
        }

        var elapsed = _time.GetElapsedTime(started);
        LogDumpWritten(_logger, _pid, kind, path, file.Length, elapsed.TotalMilliseconds);
        return new DumpResult(path, file.Length, null);
    }

    /// <summary>Stops the sessions and the listener. The process goes on; a connected runtime never resumed is resumed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_connecting is not null && _connector is null && await StopListeningAsync().ConfigureAwait(false) is { } late)
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

        if (_socketPath is not null)
        {
            TryDelete(_socketPath);
        }

        _listening?.Dispose();
    }

    private async Task<DiagnosticsClientConnector?> StampConnectedAsync(Task<DiagnosticsClientConnector?> connecting)
    {
        // Stamped here, not when StartAsync gets round to it, so the time is when the runtime actually connected.
        var connector = await connecting.ConfigureAwait(false);
        if (connector is not null)
        {
            Interlocked.Exchange(ref _connectedTicks, _time.GetUtcNow().UtcDateTime.Ticks);
        }

        return connector;
    }

    /// <summary>Stops accepting; returns a runtime that connected in the meantime (it must still be resumed), if any.</summary>
    private async Task<DiagnosticsClientConnector?> StopListeningAsync()
    {
        await _listening!.CancelAsync().ConfigureAwait(false);
        try
        {
            return await _connecting!.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException)
        {
            return null;
        }
        finally
        {
            TryDelete(_socketPath!);
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

    private async Task<StartupProfile> SummariseStartupAsync()
    {
        if (_startupSession is not { } session || _startup is null)
        {
            return StartupProfile.Empty;
        }

        var started = _time.GetTimestamp();
        await session.StopAsync().ConfigureAwait(false);
        var profile = _startup.Profile();
        var elapsed = _time.GetElapsedTime(started);
        LogStartupProfile(_logger, _pid, profile.AssembliesLoaded, profile.MethodsJitted, profile.JitMilliseconds, profile.EventsSeen, elapsed.TotalMilliseconds);
        return profile;
    }

    private async Task StopSessionsAsync()
    {
        if (_startupSession is { } startup)
        {
            await startup.StopAsync().ConfigureAwait(false);
        }

        if (_lightSession is { } light)
        {
            await light.StopAsync().ConfigureAwait(false);
        }
    }

    private void SubscribeLight(EventPipeEventSource source)
    {
        source.Clr.ExceptionStart += e =>
            _exceptions.Thrown(new RuntimeException(e.TimeStamp.ToUniversalTime(), e.ExceptionType, e.ExceptionMessage, null, e.ThreadID));
        source.Clr.GCHeapStats += e => Interlocked.Exchange(ref _gcHeapBytes, e.TotalHeapSize);
        source.Clr.GCStop += e => Volatile.Write(ref _gcCount, e.Count);
        source.Dynamic.AddCallbackForProviderEvent(LoggingProvider, "MessageJson", OnErrorLog);
    }

    // An ILogger error log (MessageJson). With an exception, its JSON carries the exception's full text: the stack.
    private void OnErrorLog(TraceEvent e)
    {
        if (e.PayloadByName("ExceptionJson") is not string { Length: > 2 } json)
        {
            return; // "{}": logged without an exception
        }

        string type, message, text;
        try
        {
            using var document = JsonDocument.Parse(json);
            type = Text(document.RootElement, "TypeName");
            message = Text(document.RootElement, "Message");
            text = Text(document.RootElement, "VerboseMessage");
        }
        catch (JsonException)
        {
            return;
        }

        var exception = _exceptions.Logged(e.TimeStamp.ToUniversalTime(), type, message, text.Length > 0 ? text : $"{type}: {message}", e.ThreadID);

        // The session asks for Error and above only.
        var level = e.PayloadByName("Level") is int logLevel ? logLevel : (int)LogLevel.Error;
        if (IsUnhandled(level, e.PayloadByName("EventName") as string, e.PayloadByName("FormattedMessage") as string))
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

        static string Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
    }

    /// <summary>
    /// Critical logs with an exception, and the error logs hosts write for exceptions nobody handled: Kestrel's
    /// "ApplicationError" ("An unhandled exception was thrown by the application"), the exception-handler and
    /// developer-page middlewares' "UnhandledException".
    /// </summary>
    internal static bool IsUnhandled(int level, string? eventName, string? message) =>
        level >= (int)LogLevel.Critical
        || eventName == "ApplicationError"
        || (eventName?.Contains("Unhandled", StringComparison.OrdinalIgnoreCase) ?? false)
        || (message?.Contains("unhandled exception", StringComparison.OrdinalIgnoreCase) ?? false);

    private static DumpType DumpTypeOf(DumpKind kind) => kind switch
    {
        DumpKind.Mini => DumpType.Normal,
        DumpKind.Triage => DumpType.Triage,
        DumpKind.WithHeap => DumpType.WithHeap,
        DumpKind.Full => DumpType.Full,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The runtime's socket, dotnet-diagnostic-PID-KEY-socket, in our TMPDIR or the process's own.</summary>
    private static string? FindDiagnosticSocket(int pid)
    {
        foreach (var folder in new[] { Path.TrimEndingDirectorySeparator(Path.GetTempPath()), TempPathOf(pid) }.Distinct())
        {
            if (folder is null || !Directory.Exists(folder))
            {
                continue;
            }

            // Several when an earlier process with the same pid left its socket behind: the newest is the live one.
            var newest = new DirectoryInfo(folder).GetFiles($"dotnet-diagnostic-{pid}-*-socket")
                .OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault();
            if (newest is not null)
            {
                return newest.FullName;
            }
        }

        return null;
    }

    private static string? TempPathOf(int pid)
    {
        try
        {
            var environment = File.ReadAllText($"/proc/{pid}/environ", Encoding.UTF8);
            var tmpdir = environment.Split('\0').FirstOrDefault(v => v.StartsWith("TMPDIR=", StringComparison.Ordinal));
            return tmpdir is { Length: > 7 } ? Path.TrimEndingDirectorySeparator(tmpdir[7..]) : "/tmp";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover file is deleted before the next listen.
        }
    }

    /// <summary>One EventPipe session and the thread reading it.</summary>
    private sealed class Session(EventPipeSession session, Task reader, TimeProvider time)
    {
        // Stopping makes the runtime flush and end the stream; the reader then drains what TraceEvent held.
        private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);
        private readonly Lock _gate = new();
        private Task? _stopped;

        public static async Task<Session> StartAsync(DiagnosticsClient client, EventPipeProvider[] providers, int bufferMb, Action<EventPipeEventSource> subscribe, RuntimeMonitor owner, CancellationToken ct)
        {
            // No rundown: it enumerates every loaded method at the end, thousands of events nobody reads here.
            var session = await client.StartEventPipeSessionAsync(providers, requestRundown: false, bufferMb, ct).ConfigureAwait(false);
            var reader = Task.Factory.StartNew(() => Read(session, subscribe, owner), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            return new Session(session, reader, owner._time);
        }

        public Task StopAsync()
        {
            lock (_gate)
            {
                return _stopped ??= StopOnceAsync();
            }
        }

        private async Task StopOnceAsync()
        {
            using var timeout = new CancellationTokenSource(CommandTimeout, time);
            var stop = session.StopAsync(timeout.Token);
            try
            {
                // A stream that ended by itself (the process exited) needs no stop, and a dead runtime would never
                // answer one: in listen mode the command waits for a connection that does not come.
                if (await Task.WhenAny(stop, reader).ConfigureAwait(false) == reader)
                {
                    await timeout.CancelAsync().ConfigureAwait(false);
                }

                await stop.ConfigureAwait(false);
                await reader.WaitAsync(DrainTimeout, time).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ServerNotAvailableException or ServerErrorException or IOException or OperationCanceledException or TimeoutException)
            {
                // Gone or not answering: closing the stream below ends the reader.
            }
            finally
            {
                session.Dispose();
            }

            await reader.ConfigureAwait(false);
        }

        private static void Read(EventPipeSession session, Action<EventPipeEventSource> subscribe, RuntimeMonitor owner)
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
                LogReadEnded(owner._logger, e, owner._pid);
            }
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "Listening on {Socket} for the function's runtime")]
    private static partial void LogListening(ILogger logger, string socket);

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

    [LoggerMessage(EventId = 3109, Level = LogLevel.Information, Message = "Startup of pid {Pid}: {Assemblies} assemblies, {Methods} methods jitted in {JitMs:F1} ms, {Events} events; summarised in {ElapsedMs:F0} ms")]
    private static partial void LogStartupProfile(ILogger logger, int pid, int assemblies, int methods, double jitMs, int events, double elapsedMs);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Debug, Message = "Event reading for pid {Pid} ended abruptly (the process exited, or the session was closed)")]
    private static partial void LogReadEnded(ILogger logger, Exception exception, int pid);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "An UnhandledException handler failed (pid {Pid})")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, int pid);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Information, Message = "Wrote a {Kind} dump of pid {Pid} to {Path}: {Bytes} bytes in {ElapsedMs:F0} ms")]
    private static partial void LogDumpWritten(ILogger logger, int pid, DumpKind kind, string path, long bytes, double elapsedMs);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Warning, Message = "A {Kind} dump of pid {Pid} was {Bytes} bytes, over the limit of {MaxBytes}: deleted")]
    private static partial void LogDumpTooLarge(ILogger logger, int pid, DumpKind kind, long bytes, long maxBytes);

    [LoggerMessage(EventId = 3114, Level = LogLevel.Warning, Message = "Could not write a {Kind} dump of pid {Pid}: {Reason}")]
    private static partial void LogDumpFailed(ILogger logger, int pid, DumpKind kind, string reason);
}
