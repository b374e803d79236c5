using System.Diagnostics;
using System.Globalization;
using Observability.Otlp.Semantics;
using Observability.Sidecar.Diagnostics;
using Observability.Sidecar.Supervision;

namespace Observability.Sidecar.Telemetry;

/// <summary>
/// Emits the cold-start record of a function process as spans in a trace of their own, linked to the
/// invocation that paid for it: a "faas.coldstart" span over the whole cold start, with one child per phase
/// (obs.coldstart.phase): "spawn" (request received → process start, when a request started the function),
/// "init" (process start → port accepting; its duration is the init duration) split for .NET into
/// "runtime_start" (→ the runtime connected to the diagnostics port) and "app_init" (→ port accepting), and
/// "first_request" (port accepting or request received, whichever is later → first response sent).
/// For .NET functions the startup profile read from the runtime's events is attached as obs.startup.* attributes.
/// </summary>
public sealed class ColdStartRecorder(SidecarMetrics metrics, TimeProvider time)
{
    // The runtime monitor and its startup profile come within milliseconds; this bounds a stuck one.
    private static readonly TimeSpan ProfileTimeout = TimeSpan.FromSeconds(10);
    private const int TopItems = 5;

    /// <summary>Name of the root span of a cold-start record (always sampled: see <see cref="HeadSampler"/>).</summary>
    public const string RecordSpanName = "faas.coldstart";

    /// <summary>Counts the cold start now; writes its record in the background (the profile takes a moment), off the request path.</summary>
    public Task RecordAsync(FunctionInstance instance, DateTime listening, DateTime requestReceived, DateTime responseSent, ActivityContext invocation)
    {
        metrics.ColdStarts.Inc();
        metrics.InitDuration.Observe(Math.Max(0, (listening - instance.ProcessStart).TotalSeconds));

        // A trace of its own: without this the invocation span, current here, would become its parent.
        var current = Activity.Current;
        Activity.Current = null;
        try
        {
            return Task.Run(async () =>
            {
                var (monitor, profile) = await ProfileAsync(instance);
                RecordSpans(instance, listening, requestReceived, responseSent, invocation, monitor, profile);
            });
        }
        finally
        {
            Activity.Current = current;
        }
    }

    private async Task<(RuntimeMonitor? Monitor, StartupProfile? Profile)> ProfileAsync(FunctionInstance instance)
    {
        try
        {
            var monitor = await instance.Runtime.WaitAsync(ProfileTimeout, time);
            return monitor is null ? (null, null) : (monitor, await monitor.EndStartupAsync(CancellationToken.None).WaitAsync(ProfileTimeout, time));
        }
#pragma warning disable CA1031 // The profile is a bonus: without it the record is still written.
        catch (Exception)
#pragma warning restore CA1031
        {
            return (null, null);
        }
    }

    private static void RecordSpans(FunctionInstance instance, DateTime listening, DateTime requestReceived, DateTime responseSent, ActivityContext invocation, RuntimeMonitor? monitor, StartupProfile? profile)
    {
        var start = instance.StartRequested is { } asked && asked < instance.ProcessStart ? asked : instance.ProcessStart;
        var init = listening - instance.ProcessStart;
        List<KeyValuePair<string, object?>> tags =
        [
            new("obs.coldstart.process_start", instance.ProcessStart.ToString("O")),
            new("obs.coldstart.listening", listening.ToString("O")),
            new("obs.coldstart.first_request_received", requestReceived.ToString("O")),
            new("obs.coldstart.first_response_sent", responseSent.ToString("O")),
            new("obs.coldstart.init_ms", init.TotalMilliseconds),
            // How far each boundary may be off (the sidecar's clocks bracket it; a busy machine widens the bracket).
            new("obs.coldstart.process_start_uncertainty_ms", instance.ProcessStartUncertainty.TotalMilliseconds),
            new("obs.coldstart.listening_uncertainty_ms", instance.ListeningUncertainty.TotalMilliseconds),
            new("process.pid", instance.Process.Id),
        ];
        var runtimeReady = monitor?.RuntimeConnected;
        if (runtimeReady is { } ready)
        {
            tags.Add(new("obs.coldstart.runtime_ready", ready.ToString("O")));
            tags.Add(new("obs.coldstart.diagnostics_pause_ms", ((monitor!.RuntimeResumed ?? ready) - ready).TotalMilliseconds));
        }

        if (profile is { EventsSeen: > 0 })
        {
            tags.Add(new("obs.startup.assemblies_loaded", profile.AssembliesLoaded));
            tags.Add(new("obs.startup.jit_methods", profile.MethodsJitted));
            tags.Add(new("obs.startup.jit_ms", Math.Round(profile.JitMilliseconds, 2)));
            tags.Add(new("obs.startup.gc_count", profile.GcCount));
            tags.Add(new("obs.startup.gc_pause_ms", Math.Round(profile.GcPauseMilliseconds, 2)));
            tags.Add(new("obs.startup.top_assemblies", Top(profile.SlowestAssemblies)));
            tags.Add(new("obs.startup.top_methods", Top(profile.SlowestMethods)));
        }

        using var root = SidecarTracing.Source.StartActivity(RecordSpanName, ActivityKind.Internal, parentContext: default, tags: tags, links: [new ActivityLink(invocation)], startTime: start);
        if (root is null)
        {
            return;
        }

        if (instance.StartRequested is { } requested && requested < instance.ProcessStart)
        {
            Phase(root, "spawn", requested, instance.ProcessStart)?.Dispose();
        }

        using (var initSpan = Phase(root, ObsConventions.InitPhase, instance.ProcessStart, listening))
        {
            if (initSpan is not null && runtimeReady is { } connected && connected > instance.ProcessStart && connected < listening)
            {
                Phase(initSpan, "runtime_start", instance.ProcessStart, connected)?.Dispose();
                Phase(initSpan, "app_init", connected, listening)?.Dispose();
            }
        }

        Phase(root, "first_request", listening > requestReceived ? listening : requestReceived, responseSent)?.Dispose();
        root.SetEndTime(responseSent);
    }

    private static string[] Top(IReadOnlyList<TimedItem> items) =>
        [.. items.Take(TopItems).Select(i => $"{i.Name} {i.Milliseconds.ToString("F2", CultureInfo.InvariantCulture)} ms")];

    /// <summary>A phase span, ended at <paramref name="to"/> when disposed.</summary>
    private static Activity? Phase(Activity parent, string phase, DateTime from, DateTime to)
    {
        var span = SidecarTracing.Source.StartActivity("coldstart." + phase, ActivityKind.Internal, parent.Context, [new(ObsConventions.ColdStartPhase, phase)], startTime: from);
        span?.SetEndTime(to < from ? from : to);
        return span;
    }
}
