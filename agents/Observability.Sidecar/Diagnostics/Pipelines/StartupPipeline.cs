using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Logging;

namespace Observability.Sidecar.Diagnostics.Pipelines;

/// <summary>
/// The startup profile: a verbose session (loader, JIT, GC) from the runtime's first instruction until
/// <see cref="EndAsync"/>, summarised by a <see cref="StartupCollector"/>.
/// </summary>
internal sealed partial class StartupPipeline
{
    private readonly PipelineSession _session;
    private readonly StartupCollector _collector;
    private readonly ILogger _logger;
    private readonly int _pid;
    private readonly TimeProvider _time;

    private StartupPipeline(PipelineSession session, StartupCollector collector, ILogger logger, int pid, TimeProvider time)
    {
        _session = session;
        _collector = collector;
        _logger = logger;
        _pid = pid;
        _time = time;
    }

    public static async Task<StartupPipeline> StartAsync(DiagnosticsClient client, ILogger logger, int pid, TimeProvider time, CancellationToken ct)
    {
        var collector = new StartupCollector();
        var session = await PipelineSession.StartAsync(client, SessionProviders.Startup, 32, collector.Subscribe, logger, pid, time, ct).ConfigureAwait(false);
        return new StartupPipeline(session, collector, logger, pid, time);
    }

    /// <summary>
    /// Stops the session and summarises everything it saw. Stopped and drained first because TraceEvent may hold
    /// events until a session ends.
    /// </summary>
    public async Task<StartupProfile> EndAsync()
    {
        var started = _time.GetTimestamp();
        await _session.StopAsync().ConfigureAwait(false);
        var profile = _collector.Profile();
        var elapsed = _time.GetElapsedTime(started);
        LogStartupProfile(_logger, _pid, profile.AssembliesLoaded, profile.MethodsJitted, profile.JitMilliseconds, profile.EventsSeen, elapsed.TotalMilliseconds);
        return profile;
    }

    public Task StopAsync() => _session.StopAsync();

    [LoggerMessage(EventId = 3109, Level = LogLevel.Information, Message = "Startup of pid {Pid}: {Assemblies} assemblies, {Methods} methods jitted in {JitMs:F1} ms, {Events} events; summarised in {ElapsedMs:F0} ms")]
    private static partial void LogStartupProfile(ILogger logger, int pid, int assemblies, int methods, double jitMs, int events, double elapsedMs);
}
