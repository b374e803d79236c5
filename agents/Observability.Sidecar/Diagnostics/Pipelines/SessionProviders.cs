using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace Observability.Sidecar.Diagnostics.Pipelines;

/// <summary>
/// What each of the monitor's two EventPipe sessions asks the runtime for. Running the light one from the start
/// means switching off the startup one leaves no gap in which an exception could be missed, and no event kind is
/// read from two sessions (no duplicates).
/// </summary>
internal static class SessionProviders
{
    public const string Runtime = "Microsoft-Windows-DotNETRuntime";
    public const string Logging = "Microsoft-Extensions-Logging";
    private const long GcKeyword = 0x1;
    private const long AssemblyLoaderKeyword = 0x4; // no enum value in TraceEvent 4.0.0
    private const long LoaderKeyword = 0x8;
    private const long JitKeyword = 0x10;
    private const long ExceptionKeyword = 0x8000;
    private const long JsonMessageKeyword = 0x8; // LoggingEventSource.Keywords.JsonMessage: the exception as JSON, with its full text

    /// <summary>The verbose startup session (<see cref="StartupPipeline"/>): loader, JIT, GC. JIT start events are Verbose.</summary>
    public static EventPipeProvider[] Startup { get; } =
        [new(Runtime, EventLevel.Verbose, GcKeyword | AssemblyLoaderKeyword | LoaderKeyword | JitKeyword)];

    /// <summary>
    /// The light session for the monitor's whole life (<see cref="ExceptionPipeline"/>, <see cref="GcPipeline"/>).
    /// Informational leaves out the per-allocation GC events; Error on the logging provider means error logs only.
    /// The runtime counters, once a second, are the light session's clock: TraceEvent holds the events of a quiet
    /// session until later ones arrive (measured: an exception stayed unseen until the session ended), and their
    /// batch of ~26 events a second lets it hand over what it holds within about a second.
    /// </summary>
    public static EventPipeProvider[] Light { get; } =
    [
        new(Runtime, EventLevel.Informational, GcKeyword | ExceptionKeyword),
        new(Logging, EventLevel.Error, JsonMessageKeyword),
        new("System.Runtime", EventLevel.Informational, 0, new Dictionary<string, string> { ["EventCounterIntervalSec"] = "1" }),
    ];
}
