using System.Globalization;

namespace Observability.Cli.Slo;

/// <summary>What an SLO counts as a bad invocation.</summary>
internal enum SliKind
{
    /// <summary>Invocations that ended in error, out of all invocations.</summary>
    Availability,

    /// <summary>Invocations slower than a threshold, out of all invocations.</summary>
    Latency,
}

/// <summary>
/// One service level objective, as read and checked from a file in dashboards/slo/: the share of a function's
/// invocations (warm-up pings never count) that must be good over a rolling window.
/// </summary>
/// <param name="Name">Spec name: the <c>slo</c> label and the rules file's name.</param>
/// <param name="Function">The function's faas.name (the <c>function</c> label of the faas_* metrics).</param>
/// <param name="ObjectivePercent">Good invocations, in percent (99.9).</param>
/// <param name="Window">The rolling window the objective holds over.</param>
/// <param name="Sli">Availability or latency.</param>
/// <param name="ThresholdSeconds">Latency only: invocations up to this many seconds are good; a bucket boundary.</param>
/// <param name="Description">Free text for people, shown in alerts.</param>
/// <param name="SourceFile">The spec file, relative to where it was read from.</param>
internal sealed record SloSpec(
    string Name,
    string Function,
    decimal ObjectivePercent,
    SloWindow Window,
    SliKind Sli,
    decimal? ThresholdSeconds,
    string? Description,
    string SourceFile)
{
    /// <summary>The objective as a ratio (0.999); decimal so that 1 - objective prints exactly.</summary>
    public decimal Objective => ObjectivePercent / 100m;

    /// <summary>The share of invocations that may be bad (0.001).</summary>
    public decimal ErrorBudget => 1m - Objective;

    public string SliName => Sli == SliKind.Availability ? "availability" : "latency";
}

/// <summary>An SLO window: 7, 28 or 30 days.</summary>
internal sealed record SloWindow(int Days)
{
    public static readonly IReadOnlyList<SloWindow> Allowed = [new(7), new(28), new(30)];

    public static SloWindow Default => new(30);

    /// <summary>PromQL duration and label value ("30d").</summary>
    public string Text => Days.ToString(CultureInfo.InvariantCulture) + "d";

    public TimeSpan Length => TimeSpan.FromDays(Days);

    public long Seconds => (long)Length.TotalSeconds;
}
