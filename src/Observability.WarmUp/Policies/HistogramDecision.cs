namespace Observability.WarmUp.Policies;

/// <summary>Why the histogram policy falls back to `idle` for a function (None: it uses the histogram).</summary>
public enum HistogramFallback
{
    None,
    TooFewObservations,
    TooManyOutOfRange,
    NotRepresentative,
}

/// <summary>The histogram policy's reading of one histogram: the window [Head, Tail] after an invocation, or why it falls back to `idle`.</summary>
public readonly record struct HistogramDecision(HistogramFallback Fallback, TimeSpan Head, TimeSpan Tail)
{
    public static HistogramDecision FallingBack(HistogramFallback reason) => new(reason, TimeSpan.Zero, TimeSpan.Zero);
}
