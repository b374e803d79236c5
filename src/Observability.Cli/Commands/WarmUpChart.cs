using System.Globalization;
using System.Net;
using System.Text;
using Observability.WarmUp.Simulation;

namespace Observability.Cli.Commands;

/// <summary>
/// A small SVG of the simulator's trade-off: two panels, cold-start rate against pings per function-day and
/// against warm instance-minutes per function-day, one labelled marker per policy. Written by hand: two
/// scatter plots do not need a charting library.
/// </summary>
internal static class WarmUpChart
{
    private const double PanelWidth = 420;
    private const double PanelHeight = 300;
    private const double Left = 70;
    private const double Top = 50;
    private const double Bottom = 55;
    private const double Gap = 80;
    private static readonly string[] Colours = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1"];

    public static string Svg(IReadOnlyList<PolicyResult> results, string title)
    {
        var width = Left + PanelWidth + Gap + PanelWidth + 30;
        var height = Top + PanelHeight + Bottom;
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n"));
        svg.Append(Invariant($"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">Warm-up policies: {Escape(title)}</text>\n"));
        var yMax = NiceMax(results.Select(r => r.ColdStartRate * 100).DefaultIfEmpty(0).Max());
        Panel(svg, results, Left, yMax, r => r.PingsPerFunctionDay, "pings per function-day");
        Panel(svg, results, Left + PanelWidth + Gap, yMax, r => r.WarmMinutesPerFunctionDay, "warm instance-minutes per function-day");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, IReadOnlyList<PolicyResult> results, double x0, double yMax, Func<PolicyResult, double> xOf, string xLabel)
    {
        var xMax = NiceMax(results.Select(xOf).DefaultIfEmpty(0).Max());
        var bottom = Top + PanelHeight;
        double X(double v) => x0 + (v / xMax * PanelWidth);
        double Y(double v) => bottom - (v / yMax * PanelHeight);

        svg.Append(Invariant($"<rect x=\"{x0}\" y=\"{Top}\" width=\"{PanelWidth}\" height=\"{PanelHeight}\" fill=\"none\" stroke=\"#888\"/>\n"));
        for (var i = 0; i <= 5; i++)
        {
            var xv = xMax * i / 5;
            var yv = yMax * i / 5;
            svg.Append(Invariant($"<line x1=\"{X(xv)}\" y1=\"{Top}\" x2=\"{X(xv)}\" y2=\"{bottom}\" stroke=\"#eee\"/>\n"));
            svg.Append(Invariant($"<line x1=\"{x0}\" y1=\"{Y(yv)}\" x2=\"{x0 + PanelWidth}\" y2=\"{Y(yv)}\" stroke=\"#eee\"/>\n"));
            svg.Append(Invariant($"<text x=\"{X(xv)}\" y=\"{bottom + 16}\" text-anchor=\"middle\">{Number(xv)}</text>\n"));
            svg.Append(Invariant($"<text x=\"{x0 - 6}\" y=\"{Y(yv) + 4}\" text-anchor=\"end\">{Number(yv)}%</text>\n"));
        }

        svg.Append(Invariant($"<text x=\"{x0 + (PanelWidth / 2)}\" y=\"{bottom + 40}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n"));
        svg.Append(Invariant($"<text transform=\"translate({x0 - 48},{Top + (PanelHeight / 2)}) rotate(-90)\" text-anchor=\"middle\">cold-start rate</text>\n"));
        var placed = new List<(double X, double Y)>();
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var colour = Colours[i % Colours.Length];
            var (cx, cy) = (X(xOf(r)), Y(r.ColdStartRate * 100));
            svg.Append(Invariant($"<circle cx=\"{cx:0.##}\" cy=\"{cy:0.##}\" r=\"6\" fill=\"{colour}\"><title>{Escape(r.Policy)}: {r.ColdStartRate * 100:0.00}% cold, {xOf(r):0.#}</title></circle>\n"));
            var anchor = cx > x0 + (PanelWidth * 0.8) ? "end" : "start";
            var lx = cx + (anchor == "end" ? -9 : 9);
            var ly = cy - 8;
            // Policies that land on the same spot (fixed and idle often do) get their labels stacked, not overprinted.
            while (placed.Any(p => Math.Abs(p.X - lx) < 70 && Math.Abs(p.Y - ly) < 13))
            {
                ly -= 14;
            }

            placed.Add((lx, ly));
            svg.Append(Invariant($"<text x=\"{lx:0.##}\" y=\"{ly:0.##}\" text-anchor=\"{anchor}\" fill=\"{colour}\" font-weight=\"bold\">{Escape(r.Policy)}</text>\n"));
        }
    }

    // The next 1, 2 or 5 times a power of ten at or above the value, so the axis ends on a round number.
    private static double NiceMax(double value)
    {
        if (value <= 0)
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1.0, 2, 5, 10 })
        {
            if (step * power >= value)
            {
                return step * power;
            }
        }

        return 10 * power;
    }

    private static string Number(double v) => v.ToString(v >= 10 || v == 0 ? "0" : "0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
