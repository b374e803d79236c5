namespace Observability.WarmUp.Policies;

/// <summary>
/// `histogram`: the hybrid histogram policy of "Serverless in the Wild" (Shahrad et al., USENIX ATC 2020), turned
/// into pings. From the function's idle-time histogram it takes a head H (the 5th percentile's lower bin edge
/// minus 10%) and a tail T (the 99th percentile's upper bin edge plus 10%): the next invocation is expected
/// between H and T after the last one, so the instance must be warm over [t0 + H, t0 + T].
/// <para>
/// Against a platform keep-alive K: after an invocation at t0 the instance stays warm until t0 + K by itself. If
/// H is beyond that, one pre-warm ping at t0 + H - margin (it pays the cold start itself) makes it warm at H.
/// From then on a ping just before the instance would go cold (K - margin after the last activity) keeps it warm
/// until T. No pings when the keep-alive already covers T.
/// </para>
/// <para>
/// Falls back to <see cref="IdlePolicy"/> when the histogram is not representative: fewer than
/// <see cref="MinimumObservations"/> idle times, a coefficient of variation of the bin counts below
/// <see cref="MinimumCoefficientOfVariation"/> (idle times spread over the whole range predict nothing), or more
/// than <see cref="MaximumOutOfRangeShare"/> of the idle times beyond the 4-hour range.
/// </para>
/// </summary>
public sealed class HistogramPolicy(PolicySettings settings) : IWarmUpPolicy
{
    /// <summary>Idle times needed before the histogram is trusted (the paper leaves this open).</summary>
    public const int MinimumObservations = 10;

    /// <summary>The paper's representativeness threshold on the coefficient of variation of the bin counts.</summary>
    public const double MinimumCoefficientOfVariation = 2.0;

    /// <summary>
    /// Beyond this share of out-of-range idle times the 4-hour histogram describes too little of the function
    /// (the paper switches to a time-series forecast there; this policy keeps the function warm with `idle`).
    /// </summary>
    public const double MaximumOutOfRangeShare = 0.5;

    public const double HeadPercentile = 0.05;
    public const double TailPercentile = 0.99;

    /// <summary>The paper's 10%: pre-warm 10% before the head, keep warm 10% past the tail.</summary>
    public const double WindowMargin = 0.10;

    private readonly IdlePolicy _fallback = new(settings);

    public string Name => "histogram";

    /// <summary>Why the policy decides as it does for this histogram; the simulator and the planner report it.</summary>
    public static HistogramDecision Decide(IdleTimeHistogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.Total < MinimumObservations)
        {
            return HistogramDecision.FallingBack(HistogramFallback.TooFewObservations);
        }

        if (histogram.OutOfRangeShare > MaximumOutOfRangeShare)
        {
            return HistogramDecision.FallingBack(HistogramFallback.TooManyOutOfRange);
        }

        if (histogram.BinCountCoefficientOfVariation() < MinimumCoefficientOfVariation)
        {
            return HistogramDecision.FallingBack(HistogramFallback.NotRepresentative);
        }

        var head = TimeSpan.FromMinutes(histogram.PercentileBin(HeadPercentile) * (1 - WindowMargin));
        var tail = TimeSpan.FromMinutes((histogram.PercentileBin(TailPercentile) + 1) * (1 + WindowMargin));
        return new HistogramDecision(HistogramFallback.None, head, tail);
    }

    public DateTimeOffset? NextPing(FunctionActivity activity, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var decision = Decide(activity.IdleTimes);
        if (decision.Fallback != HistogramFallback.None || activity.LastInvocation is not { } invoked)
        {
            return _fallback.NextPing(activity, now);
        }

        var windowEnd = invoked + decision.Tail;
        var lastActivity = IdlePolicy.Latest(invoked, activity.LastPing)!.Value;
        var warmUntil = lastActivity + settings.KeepAlive;
        if (warmUntil >= windowEnd || now >= windowEnd)
        {
            // The instance stays warm to the end of the window by itself, or the window has passed: nothing
            // to do until the next invocation.
            return null;
        }

        // Still warm at the head: ping just before it would go cold. Cold before the head: pre-warm just before it.
        var headAt = invoked + decision.Head;
        var due = (warmUntil > headAt ? warmUntil : headAt) - ClosedLoop.EffectiveMargin(settings, activity.RecentColdSignals);
        return due > now ? due : now;
    }
}
