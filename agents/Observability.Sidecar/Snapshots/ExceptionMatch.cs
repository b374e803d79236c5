using Observability.Sidecar.Diagnostics;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Which of the runtime's exceptions belong to a failed request. The runtime reports every exception of the process,
/// so with requests in flight side by side one request's exception must not be pinned on another:
/// <list type="bullet">
/// <item><see cref="Trace"/>: the app logged exceptions with this request's trace id; only those are its own.</item>
/// <item><see cref="OnlyRequest"/>: none carries the trace id, but no other request overlapped: they can only be its own.</item>
/// <item><see cref="Uncertain"/>: none carries the trace id and others overlapped: candidates, not blamed.</item>
/// </list>
/// Exceptions logged with another request's trace id are never a candidate. <see cref="How"/> is null for failures
/// outside a request (a crash between requests, an unhandled exception in background work).
/// </summary>
internal sealed record ExceptionMatch(IReadOnlyList<RuntimeException> Exceptions, string? How)
{
    public const string Trace = "trace";
    public const string OnlyRequest = "only_request";
    public const string Uncertain = "uncertain";

    /// <summary>Whether the exceptions may name the failure's cause (the exception.* attributes).</summary>
    public bool MayBlame => How != Uncertain;

    /// <param name="candidates">The exceptions the runtime reported while the request ran.</param>
    /// <param name="traceId">The request's trace id (hex), if it had a span.</param>
    /// <param name="otherRequests">How many other requests overlapped it; null when the failure is not a request's.</param>
    public static ExceptionMatch Of(IReadOnlyList<RuntimeException> candidates, string? traceId, int? otherRequests)
    {
        if (otherRequests is not { } others)
        {
            return new(candidates, null);
        }

        var traced = new List<RuntimeException>();
        var untraced = new List<RuntimeException>();
        foreach (var exception in candidates)
        {
            if (traceId is not null && exception.TraceId == traceId)
            {
                traced.Add(exception);
            }
            else if (exception.TraceId is null || traceId is null)
            {
                untraced.Add(exception);
            }
        }

        return traced.Count > 0 ? new(traced, Trace) : new(untraced, others == 0 ? OnlyRequest : Uncertain);
    }

    /// <summary>
    /// Whether waiting for more can change the answer no more: the request's own exception has come with its stack, or
    /// exceptions come with stacks but never with a trace id (a runtime before .NET 9, an app without an Activity).
    /// </summary>
    public static bool IsComplete(IReadOnlyList<RuntimeException> candidates, string? traceId)
    {
        var anyTraced = false;
        var anyStack = false;
        foreach (var exception in candidates)
        {
            if (exception.StackTrace is not null && traceId is not null && exception.TraceId == traceId)
            {
                return true;
            }

            anyTraced |= exception.TraceId is not null;
            anyStack |= exception.StackTrace is not null;
        }

        return anyStack && (!anyTraced || traceId is null);
    }
}
