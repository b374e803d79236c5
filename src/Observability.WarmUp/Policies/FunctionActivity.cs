namespace Observability.WarmUp.Policies;

/// <summary>What a policy knows about one function when it decides.</summary>
/// <param name="Function">The function's name (faas.name).</param>
/// <param name="LastInvocation">The last real invocation's start (warm-up pings are not invocations); null if none seen.</param>
/// <param name="LastPing">When the last warm-up ping was sent; null if none.</param>
/// <param name="IdleTimes">The function's learned idle times (gaps between consecutive invocations).</param>
/// <param name="RecentColdSignals">
/// Closed loop: cold starts a warm-up was meant to prevent, seen recently (pings that found the instance cold,
/// real invocations that still started cold). Policies tighten their margin as it grows.
/// </param>
public sealed record FunctionActivity(
    string Function,
    DateTimeOffset? LastInvocation,
    DateTimeOffset? LastPing,
    IdleTimeHistogram IdleTimes,
    int RecentColdSignals = 0);
