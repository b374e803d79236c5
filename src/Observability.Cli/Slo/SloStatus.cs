using System.Globalization;
using Observability.Cli.Client;
using Observability.Collector.Query;

namespace Observability.Cli.Slo;

/// <summary>One SLO's state at a time: its budget over its window and its burn rate over every alert window.</summary>
/// <param name="Spec">The SLO.</param>
/// <param name="At">The end of every window.</param>
/// <param name="Earliest">The oldest stored invocation in the SLO window; null when there is none.</param>
/// <param name="Windows">Counts and ratios per window: the alert windows, then the SLO window.</param>
/// <param name="Burning">The burn-rate alerts whose two windows are both over their factor now (their `for` aside).</param>
internal sealed record SloStatus(SloSpec Spec, DateTime At, DateTime? Earliest, IReadOnlyList<SloWindowStatus> Windows, IReadOnlyList<BurnRateWindow> Burning)
{
    public SloWindowStatus SloWindow => Windows.Single(w => w.Window == Spec.Window.Text);

    /// <summary>1 - error ratio over the window / error budget; null with no invocations in the window.</summary>
    public double? BudgetRemaining => SloWindow.ErrorRatio is { } ratio ? 1 - (ratio / (double)Spec.ErrorBudget) : null;

    public SloWindowStatus Window(string window) => Windows.First(w => w.Window == window);
}

/// <summary>Invocations (adjusted counts) over a window, good and bad; ratios are null when there were none.</summary>
internal sealed record SloWindowStatus(string Window, double Total, double Good, double ErrorBudget)
{
    public double Bad => Total - Good;

    public double? ErrorRatio => Total > 0 ? Bad / Total : null;

    /// <summary>How many times faster than the objective allows the budget is spent (1 = exactly on budget).</summary>
    public double? BurnRate => ErrorRatio / ErrorBudget;
}

/// <summary>Computes SLO status from the collector's stored invocations (GET /api/v1/slis): no Prometheus needed.</summary>
internal static class SloStatusReader
{
    public static async Task<SloStatus> ReadAsync(CollectorClient client, SloSpec spec, DateTime? at, CancellationToken ct)
    {
        var windows = BurnRateWindow.RecordedWindows.Append(spec.Window.Text).Distinct(StringComparer.Ordinal).ToList();
        var query = $"api/v1/slis?function={Uri.EscapeDataString(spec.Function)}&sli={spec.SliName}&windows={string.Join(',', windows)}";
        if (spec.ThresholdSeconds is { } threshold)
        {
            query += "&threshold=" + SloSpecLoader.Format(threshold);
        }

        if (at is { } end)
        {
            query += "&end=" + Uri.EscapeDataString(end.ToString("O", CultureInfo.InvariantCulture));
        }

        var slis = await client.GetAsync<ApiSlis>(query, ct);
        var budget = (double)spec.ErrorBudget;
        var statuses = slis.Items.Select(w => new SloWindowStatus(w.Window, w.Total, w.Good, budget)).ToList();
        var byWindow = statuses.ToDictionary(s => s.Window, StringComparer.Ordinal);
        // The alerts' condition, as the generated rules state it: both windows' error ratio above factor x budget.
        var burning = BurnRateWindow.All
            .Where(b => byWindow[b.Long].BurnRate > (double)b.Factor && byWindow[b.Short].BurnRate > (double)b.Factor)
            .ToList();
        return new SloStatus(spec, slis.End, slis.Earliest, statuses, burning);
    }
}
