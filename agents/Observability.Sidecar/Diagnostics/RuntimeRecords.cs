namespace Observability.Sidecar.Diagnostics;

/// <summary>
/// An exception the function's runtime reported. <see cref="Time"/>: when it was thrown (UTC), from the runtime's own
/// event timestamp. <see cref="StackTrace"/>: the exception's full text (Exception.ToString(): type, message, inner
/// exceptions, stack, as OpenTelemetry's exception.stacktrace has it), known once the app logged the exception through
/// ILogger (as ASP.NET Core does for unhandled ones), else null. <see cref="ThreadId"/>: the OS thread that threw it.
/// <see cref="TraceId"/>: the W3C trace id (32 hex digits) of the request it was logged in, from the log event's
/// ActivityTraceId (.NET 9 and later, when the app had an Activity: ASP.NET Core makes one per request), else null.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "A record describing an exception, not an Exception type; the name is part of the agreed surface.")]
public sealed record RuntimeException(DateTime Time, string Type, string Message, string? StackTrace, int ThreadId, string? TraceId = null);

/// <summary>
/// What the runtime did from its start until the end of the cold start. <see cref="EventsSeen"/> counts the startup
/// session's events: a check that startup was actually observed.
/// </summary>
public sealed record StartupProfile(
    int AssembliesLoaded,
    IReadOnlyList<TimedItem> SlowestAssemblies,
    int MethodsJitted,
    double JitMilliseconds,
    IReadOnlyList<TimedItem> SlowestMethods,
    int GcCount,
    double GcPauseMilliseconds,
    int EventsSeen)
{
    /// <summary>Nothing observed: attach mode, or the runtime never connected.</summary>
    public static StartupProfile Empty { get; } = new(0, [], 0, 0, [], 0, 0, 0);
}

public sealed record TimedItem(string Name, double Milliseconds);

/// <summary>What a dump holds; maps onto the runtime's dump types.</summary>
public enum DumpKind
{
    /// <summary>Threads, stacks and modules (the runtime's "Normal" dump).</summary>
    Mini,

    /// <summary>Like Mini, with personal data (paths, arguments) scrubbed.</summary>
    Triage,

    /// <summary>Mini plus the GC heap: enough to inspect objects.</summary>
    WithHeap,

    /// <summary>All process memory.</summary>
    Full,
}

/// <summary>A written dump (<see cref="Path"/>) or why there is none (<see cref="Error"/>).</summary>
public sealed record DumpResult(string? Path, long Bytes, string? Error);
