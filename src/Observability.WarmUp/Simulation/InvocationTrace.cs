namespace Observability.WarmUp.Simulation;

/// <summary>An invocation trace: per function, the start times of its invocations, over [Start, End].</summary>
public sealed record InvocationTrace(DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<FunctionTrace> Functions)
{
    public double Days => (End - Start).TotalDays;

    public long Invocations => Functions.Sum(f => (long)f.Invocations.Length);
}

/// <summary>One function's invocations, sorted by time. <paramref name="Kind"/> is the trigger or the synthetic kind, when known.</summary>
public sealed record FunctionTrace(string Name, string? Kind, DateTimeOffset[] Invocations);
