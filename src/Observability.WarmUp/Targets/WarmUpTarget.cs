using Observability.WarmUp.Policies;

namespace Observability.WarmUp.Targets;

/// <summary>One function the scheduler keeps warm, with everything the planner and the ping job need.</summary>
/// <param name="Function">The function's name (faas.name).</param>
/// <param name="Url">Where pings go: the function's sidecar (its advertised obs.warmup.url, or the targets file's url).</param>
/// <param name="Policy">The policy's name (none, fixed, idle, histogram).</param>
/// <param name="Settings">Keep-alive, margin and fixed interval for this function.</param>
/// <param name="Instances">Concurrent requests per ping: how many instances to keep warm.</param>
/// <param name="BudgetPerHour">Pings per rolling hour at most.</param>
/// <param name="ActiveHours">When warm-up is active; null: always.</param>
/// <param name="Source">"config" (the targets file) or "discovered" (a sidecar's advertisement).</param>
public sealed record WarmUpTarget(
    string Function,
    Uri Url,
    string Policy,
    PolicySettings Settings,
    int Instances,
    int BudgetPerHour,
    ActiveHours? ActiveHours,
    string Source)
{
    public const string FromConfig = "config";
    public const string Discovered = "discovered";
}
