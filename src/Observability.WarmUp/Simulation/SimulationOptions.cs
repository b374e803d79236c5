using Observability.WarmUp.Policies;

namespace Observability.WarmUp.Simulation;

/// <summary>How a trace is replayed.</summary>
/// <param name="Settings">What the policies are told (keep-alive, margin, fixed interval).</param>
/// <param name="BudgetPerHour">A <see cref="PingBudget"/> per function when set; a refused ping is asked for again a minute later, as the planner would.</param>
/// <param name="PlatformKeepAlive">
/// The keep-alive the simulated platform really applies; defaults to <see cref="PolicySettings.KeepAlive"/>.
/// Set it shorter to see the closed loop catch a platform that reclaims earlier than configured.
/// </param>
public sealed record SimulationOptions(PolicySettings Settings, int? BudgetPerHour = null, TimeSpan? PlatformKeepAlive = null)
{
    /// <summary>A refused ping is retried after this long: the live planner's period.</summary>
    public static readonly TimeSpan RetryAfterRefusal = TimeSpan.FromMinutes(1);

    /// <summary>Cold signals older than this no longer count as recent.</summary>
    public static readonly TimeSpan SignalWindow = TimeSpan.FromHours(1);
}
