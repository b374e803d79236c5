namespace Observability.WarmUp.Policies;

/// <summary>
/// `idle`: ping when the function has been idle (no invocation, no ping) for the platform's keep-alive minus the
/// margin, so the instance never goes cold. Keeps every function warm all the time, at one ping per
/// keep-alive of idleness.
/// </summary>
public sealed class IdlePolicy(PolicySettings settings) : IWarmUpPolicy
{
    public string Name => "idle";

    public DateTimeOffset? NextPing(FunctionActivity activity, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var last = Latest(activity.LastInvocation, activity.LastPing);
        if (last is null)
        {
            // Nothing seen yet: warm it now so that the first invocation finds it warm.
            return now;
        }

        var due = last.Value + settings.KeepAlive - ClosedLoop.EffectiveMargin(settings, activity.RecentColdSignals);
        return due > now ? due : now;
    }

    internal static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a > b ? a : b;
}
