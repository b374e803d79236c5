namespace Observability.WarmUp.Policies;

/// <summary>
/// Decides when to ping one function next. Shared by the Hangfire planner (live, from the collector's tables) and
/// the simulator (replayed traces), so that what the benchmark measures is what runs. Pure: no clock, no I/O.
/// </summary>
public interface IWarmUpPolicy
{
    /// <summary>The policy's name as settings and reports spell it: <c>none</c>, <c>fixed</c>, <c>idle</c>, <c>histogram</c>.</summary>
    string Name { get; }

    /// <summary>
    /// When the next ping should be sent, at or after <paramref name="now"/>; null when no ping is needed until
    /// something happens (an invocation or a ping changes <paramref name="activity"/>, and the caller asks again).
    /// </summary>
    DateTimeOffset? NextPing(FunctionActivity activity, DateTimeOffset now);
}
