namespace Observability.WarmUp.Policies;

/// <summary>What a policy needs to know about the platform and the operator's choices.</summary>
/// <param name="KeepAlive">
/// How long the platform keeps an idle instance before it goes cold (Knative's scale-to-zero grace, Lambda's
/// reclaim time). A ping or an invocation resets it.
/// </param>
/// <param name="Margin">How long before the keep-alive runs out a ping is sent (the `idle` policy, and the histogram policy's keep-warm pings).</param>
/// <param name="FixedInterval">The `fixed` policy's interval (serverless-plugin-warmup's default is 5 minutes).</param>
public sealed record PolicySettings(TimeSpan KeepAlive, TimeSpan Margin, TimeSpan FixedInterval)
{
    public static PolicySettings Default { get; } = new(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));
}
