namespace Observability.WarmUp.Simulation;

/// <summary>
/// What one policy did over one trace. ColdStartRate: cold invocations over all invocations.
/// FunctionColdStartRateP50/P90/P99: percentiles (nearest rank) over functions of each function's own
/// cold-start rate. Pings: pings sent; ColdPings: those that found the instance cold and paid the cold start
/// themselves; PingsSkippedByBudget: pings the budget refused. WarmInstanceMinutes: minutes instances were kept
/// warm (loaded in memory) over all functions, the paper's memory cost.
/// </summary>
public sealed record PolicyResult(
    string Policy,
    int Functions,
    double Days,
    long Invocations,
    long ColdStarts,
    double ColdStartRate,
    double FunctionColdStartRateP50,
    double FunctionColdStartRateP90,
    double FunctionColdStartRateP99,
    long Pings,
    long ColdPings,
    double PingsPerFunctionDay,
    long PingsSkippedByBudget,
    double WarmInstanceMinutes,
    double WarmMinutesPerFunctionDay);
