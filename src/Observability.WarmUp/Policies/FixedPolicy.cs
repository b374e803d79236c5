namespace Observability.WarmUp.Policies;

/// <summary>
/// `fixed`: a ping every interval, whatever the function does (what serverless-plugin-warmup does). The baseline
/// the learned policies are measured against.
/// </summary>
public sealed class FixedPolicy(TimeSpan interval) : IWarmUpPolicy
{
    public string Name => "fixed";

    public DateTimeOffset? NextPing(FunctionActivity activity, DateTimeOffset now) =>
        activity.LastPing is { } last && last + interval > now ? last + interval : now;
}
