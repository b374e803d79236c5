namespace Observability.Cli.Slo;

/// <summary>
/// One multi-window burn-rate alert (Google SRE workbook, "Alerting on SLOs", table 5-8): it fires when the error
/// ratio is above <see cref="Factor"/> times the error budget over both the long window (enough budget spent to
/// matter) and the short one (still burning now, so the alert resets soon after the burn stops).
/// </summary>
/// <param name="Severity">page (wake someone) or ticket (look within working hours).</param>
/// <param name="Factor">Burn rate: how many times faster than the objective allows the budget is spent.</param>
/// <param name="Long">The long window (a recorded rate).</param>
/// <param name="Short">The short window (a recorded rate), 1/12 of the long one.</param>
/// <param name="For">How long both must hold before the alert fires: filters single evaluation spikes.</param>
internal sealed record BurnRateWindow(string Severity, decimal Factor, string Long, string Short, string For)
{
    /// <summary>The four alerts of the workbook for a 30-day SLO; used as they are for 7 and 28 days too.</summary>
    public static readonly IReadOnlyList<BurnRateWindow> All =
    [
        new("page", 14.4m, "1h", "5m", "2m"),
        new("page", 6m, "6h", "30m", "15m"),
        new("ticket", 3m, "1d", "2h", "1h"),
        new("ticket", 1m, "3d", "6h", "3h"),
    ];

    /// <summary>The rate windows recorded for every SLO: every long and short window above.</summary>
    public static readonly IReadOnlyList<string> RecordedWindows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];
}
