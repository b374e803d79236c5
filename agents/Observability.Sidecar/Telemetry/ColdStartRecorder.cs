using System.Diagnostics;
using Observability.Core.Semantics;
using Observability.Sidecar.Supervision;

namespace Observability.Sidecar.Telemetry;

/// <summary>
/// Emits the cold-start record of a function process as spans in a trace of their own, linked to the
/// invocation that paid for it: a "faas.coldstart" span over the whole cold start, with one child per phase
/// (obs.coldstart.phase): "spawn" (request received → process start, when a request started the function),
/// "init" (process start → port accepting; its duration is the init duration), and "first_request"
/// (port accepting or request received, whichever is later → first response sent).
/// </summary>
public sealed class ColdStartRecorder(SidecarMetrics metrics)
{
    public void Record(FunctionInstance instance, DateTime listening, DateTime requestReceived, DateTime responseSent, ActivityContext invocation)
    {
        // A trace of its own: without this the invocation span, current here, would become its parent.
        var current = Activity.Current;
        Activity.Current = null;
        try
        {
            RecordSpans(instance, listening, requestReceived, responseSent, invocation);
        }
        finally
        {
            Activity.Current = current;
        }
    }

    private void RecordSpans(FunctionInstance instance, DateTime listening, DateTime requestReceived, DateTime responseSent, ActivityContext invocation)
    {
        var start = instance.StartRequested is { } asked && asked < instance.ProcessStart ? asked : instance.ProcessStart;
        var init = listening - instance.ProcessStart;
        metrics.ColdStarts.Inc();
        metrics.InitDuration.Observe(Math.Max(0, init.TotalSeconds));

        using var root = SidecarTracing.Source.StartActivity(
            "faas.coldstart",
            ActivityKind.Internal,
            parentContext: default,
            tags:
            [
                new("obs.coldstart.process_start", instance.ProcessStart.ToString("O")),
                new("obs.coldstart.listening", listening.ToString("O")),
                new("obs.coldstart.first_request_received", requestReceived.ToString("O")),
                new("obs.coldstart.first_response_sent", responseSent.ToString("O")),
                new("obs.coldstart.init_ms", init.TotalMilliseconds),
                new("process.pid", instance.Process?.Id ?? 0),
            ],
            links: [new ActivityLink(invocation)],
            startTime: start);
        if (root is null)
        {
            return;
        }

        if (instance.StartRequested is { } requested && requested < instance.ProcessStart)
        {
            Phase(root, "spawn", requested, instance.ProcessStart);
        }

        Phase(root, ObsConventions.InitPhase, instance.ProcessStart, listening);
        Phase(root, "first_request", listening > requestReceived ? listening : requestReceived, responseSent);
        root.SetEndTime(responseSent);
    }

    private static void Phase(Activity parent, string phase, DateTime from, DateTime to)
    {
        using var span = SidecarTracing.Source.StartActivity("coldstart." + phase, ActivityKind.Internal, parent.Context, [new(ObsConventions.ColdStartPhase, phase)], startTime: from);
        span?.SetEndTime(to < from ? from : to);
    }
}
