using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Observability.Dashboards.Tests.Grafana;
using Observability.Testing;
using Xunit.Abstractions;

namespace Observability.Dashboards.Tests.Prometheus;

/// <summary>
/// `obs slo status` (from the invocations the collector stored) and the Prometheus recording rules (from the
/// collector's counters, scraped every second) on the same traffic agree on each SLO's error ratio and budget
/// remaining, within what their windows' edges can make them differ by.
/// </summary>
[Collection(nameof(ScrapedSuiteGroup))]
public sealed class SameNumbersTwoWaysTests(ScrapedSuite suite, ITestOutputHelper output)
{
    /// <summary>The largest share of an SLO's traffic the two may count differently at the windows' edges for the comparison to be worth making.</summary>
    private const double MaxEdgeShare = 0.05;

    [Fact]
    public async Task Slo_status_and_the_recording_rules_agree_on_error_ratio_and_budget_remaining()
    {
        // The edges: Prometheus never sees a counter series' first increment (the series starts at it) and
        // extrapolates at the ends of its range; the status counts every stored span up to its time. Wait until
        // that is a small share of each SLO's traffic, or agreement within it would prove little.
        var (at, slos) = await Poll.UntilAsync(
            async () =>
            {
                // Between two ticks: every span of the latest tick starts before it, none of the next one's.
                var time = suite.LastTickStart.AddMilliseconds(300);
                // Before the first tick of traffic there is nothing to compare yet.
                var status = time.Year < 2000 ? [] : await StatusAsync(time);
                var shares = new List<double>();
                foreach (var slo in status)
                {
                    shares.Add(await PrometheusTotalAsync(slo, time) is { } p && slo.Total > 0 ? Math.Abs(slo.Total - p) / slo.Total : 1);
                }

                return (time, status, shares.Count > 0 ? shares.Max() : 1);
            },
            s => s.Item3 < MaxEdgeShare,
            TimeSpan.FromMinutes(5),
            $"the windows' edges to be under {MaxEdgeShare:P0} of each SLO's traffic").ContinueWith(t => (t.Result.time, t.Result.status), TaskScheduler.Default);

        Assert.NotEmpty(slos);
        foreach (var slo in slos)
        {
            var ratio = await ValueAsync($"slo:sli_error:ratio_window{{slo=\"{slo.Name}\"}}", at);
            var remaining = await ValueAsync($"slo:error_budget_remaining:ratio{{slo=\"{slo.Name}\"}}", at);
            var prometheusTotal = (await PrometheusTotalAsync(slo, at))!.Value;

            // The traffic is the same mix every second and both count whole ticks, so what the edges add or leave
            // out (a share `edge` of the invocations) moves the error ratio by at most that share of itself; the
            // budget remaining moves by the ratio's difference over the error budget.
            var edge = Math.Abs(slo.Total - prometheusTotal) / slo.Total;
            var ratioBound = (edge * slo.ErrorRatio) + 1e-9;
            output.WriteLine(FormattableString.Invariant(
                $"{slo.Name}: error ratio {slo.ErrorRatio:F5} (status, {slo.Total} invocations) vs {ratio:F5} (rules, {prometheusTotal:F1}); budget remaining {slo.BudgetRemaining:F3} vs {remaining:F3}; edges {edge:P1} of the traffic, ratio bound {ratioBound:F5}"));
            Assert.True(slo.ErrorRatio > 0, $"{slo.Name}: the traffic has errors (or slow invocations) for this SLO, so the ratio is worth comparing");
            Assert.InRange(ratio, slo.ErrorRatio - ratioBound, slo.ErrorRatio + ratioBound);
            Assert.InRange(remaining, slo.BudgetRemaining - (ratioBound / slo.ErrorBudget) - 1e-9, slo.BudgetRemaining + (ratioBound / slo.ErrorBudget) + 1e-9);
        }
    }

    private sealed record SloNumbers(string Name, string Function, string Sli, string Window, double ErrorBudget, double Total, double ErrorRatio, double BudgetRemaining);

    /// <summary>`obs slo status --json` as of a time, against the suite's collector and the committed specs.</summary>
    private async Task<IReadOnlyList<SloNumbers>> StatusAsync(DateTimeOffset at)
    {
        var status = await ToolProcess.RunAsync("dotnet",
        [
            RepositoryFiles.Built("src", "Observability.Cli", "obs.dll"), "slo", "status", "--json",
            "--specs", DashboardFiles.Of("slo"),
            "--collector", suite.Collector.ApiEndpoint.ToString(), "--read-key", CollectorRunner.ReadKey,
            "--at", at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ], timeout: TimeSpan.FromMinutes(1));
        Assert.True(status.ExitCode == 0, $"obs slo status: {status}");
        using var json = JsonDocument.Parse(status.Stdout);
        return [.. json.RootElement.GetProperty("slos").EnumerateArray().Select(s => new SloNumbers(
            s.GetProperty("name").GetString()!,
            s.GetProperty("function").GetString()!,
            s.GetProperty("sli").GetString()!,
            s.GetProperty("window").GetString()!,
            s.GetProperty("errorBudget").GetDouble(),
            s.GetProperty("total").GetDouble(),
            s.GetProperty("errorRatio").ValueKind == JsonValueKind.Number ? s.GetProperty("errorRatio").GetDouble() : double.NaN,
            s.GetProperty("budgetRemaining").ValueKind == JsonValueKind.Number ? s.GetProperty("budgetRemaining").GetDouble() : double.NaN))];
    }

    /// <summary>The invocations Prometheus counts over the SLO window: the rule's own denominator, as an increase.</summary>
    private async Task<double?> PrometheusTotalAsync(SloNumbers slo, DateTimeOffset at)
    {
        var series = slo.Sli == "latency" ? "faas_invoke_duration_seconds_count" : "faas_invocations_total";
        var data = await suite.Prometheus.QueryAsync($"sum(increase({series}{{function=\"{slo.Function}\"}}[{slo.Window}]))", at);
        var result = data.GetProperty("result");
        return result.GetArrayLength() == 0 ? null : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    private async Task<double> ValueAsync(string expression, DateTimeOffset at)
    {
        var result = (await suite.Prometheus.QueryAsync(expression, at)).GetProperty("result");
        Assert.True(result.GetArrayLength() == 1, $"{expression} at {at:O}: {result}");
        return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }
}
