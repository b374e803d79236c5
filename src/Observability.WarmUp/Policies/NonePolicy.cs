namespace Observability.WarmUp.Policies;

/// <summary>`none`: never pings. The baseline that shows what the platform does on its own.</summary>
public sealed class NonePolicy : IWarmUpPolicy
{
    public string Name => "none";

    public DateTimeOffset? NextPing(FunctionActivity activity, DateTimeOffset now) => null;
}
