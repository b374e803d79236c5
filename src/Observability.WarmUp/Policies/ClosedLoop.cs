namespace Observability.WarmUp.Policies;

/// <summary>
/// The closed loop: each recent cold signal (a ping that found the instance cold, or an invocation that started
/// cold, although the last activity was within the keep-alive) doubles the margin, up to half the keep-alive.
/// A platform that reclaims earlier than configured is caught after a few signals; the cap keeps a keep-warm
/// ping at most every half keep-alive, so the correction at most doubles the pings (PingBudget caps them
/// absolutely, outside the policy).
/// </summary>
public static class ClosedLoop
{
    /// <summary>Signals beyond this many no longer widen the margin (2^4 = 16 times the configured margin).</summary>
    public const int MaxDoublings = 4;

    public static TimeSpan EffectiveMargin(PolicySettings settings, int recentColdSignals)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var doublings = Math.Clamp(recentColdSignals, 0, MaxDoublings);
        var widened = settings.Margin * (1 << doublings);
        var cap = settings.KeepAlive / 2 > settings.Margin ? settings.KeepAlive / 2 : settings.Margin;
        return widened < cap ? widened : cap;
    }
}
