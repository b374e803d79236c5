using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Observability.Cli.Client;
using Observability.Cli.Slo;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>`obs slo status`: each SLO's budget and burn rates from the invocations the collector stored.</summary>
internal static class SloStatusCommand
{
    public static Command Create()
    {
        var specs = new Option<string>("--specs") { Description = "Folder of SLO specs (*.yaml, one SLO a file).", DefaultValueFactory = _ => Path.Combine("dashboards", "slo") };
        var collector = new Option<string?>("--collector") { Description = $"The collector's API address (default: OBS_COLLECTOR_URL, else {CollectorConnection.DefaultUrl})." };
        var readKey = new Option<string?>("--read-key") { Description = "The collector's read key (default: OBS_READ_KEY, else the data folder's keys.json)." };
        var dataDir = new Option<string>("--data-dir") { Description = "The data folder of `obs up`, for its keys.json.", DefaultValueFactory = _ => ".data" };
        var at = new Option<DateTime?>("--at") { Description = "Compute as of this UTC time (RFC 3339) instead of now." };
        var json = new Option<bool>("--json") { Description = "Print the status as JSON (for scripts)." };
        var command = new Command("status", "Each SLO's objective, error budget remaining and burn rates, from the invocations the collector stored (no Prometheus needed).")
        {
            specs, collector, readKey, dataDir, at, json,
        };
        command.SetAction(async (result, ct) =>
        {
            try
            {
                var loaded = SloSpecLoader.LoadDirectory(result.GetValue(specs)!);
                var connection = CollectorConnection.Resolve(result.GetValue(collector), result.GetValue(readKey), result.GetValue(dataDir)!);
                using var client = new CollectorClient(connection);
                var when = result.GetValue(at) is { } t ? DateTime.SpecifyKind(t.ToUniversalTime(), DateTimeKind.Utc) : (DateTime?)null;
                var statuses = new List<SloStatus>();
                if (result.GetValue(json))
                {
                    foreach (var spec in loaded)
                    {
                        statuses.Add(await SloStatusReader.ReadAsync(client, spec, when, ct));
                    }

                    Console.WriteLine(JsonSerializer.Serialize(new { collector = client.BaseUrl, slos = statuses.Select(ToJson) }, CliJson.Options));
                    return 0;
                }

                await AnsiConsole.Progress().AutoClear(true).StartAsync(async progress =>
                {
                    var task = progress.AddTask($"Reading {loaded.Count} SLOs from {client.BaseUrl}", maxValue: loaded.Count);
                    foreach (var spec in loaded)
                    {
                        statuses.Add(await SloStatusReader.ReadAsync(client, spec, when, ct));
                        task.Increment(1);
                    }
                });
                Print(statuses);
                return 0;
            }
            catch (SloSpecException e)
            {
                SloErrors.Print(e);

                return 2;
            }
            catch (CollectorClientException e)
            {
                // Plain stderr, unwrapped: scripts and people both read it whole.
                Console.Error.WriteLine($"obs slo status: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static object ToJson(SloStatus s) => new
    {
        name = s.Spec.Name,
        function = s.Spec.Function,
        sli = s.Spec.SliName,
        thresholdSeconds = s.Spec.ThresholdSeconds,
        objective = s.Spec.Objective,
        window = s.Spec.Window.Text,
        errorBudget = s.Spec.ErrorBudget,
        at = s.At,
        earliest = s.Earliest,
        total = s.SloWindow.Total,
        good = s.SloWindow.Good,
        errorRatio = s.SloWindow.ErrorRatio,
        budgetRemaining = s.BudgetRemaining,
        windows = s.Windows.Select(w => new { window = w.Window, total = w.Total, good = w.Good, errorRatio = w.ErrorRatio, burnRate = w.BurnRate }),
        burning = s.Burning.Select(b => new { severity = b.Severity, factor = b.Factor, longWindow = b.Long, shortWindow = b.Short }),
    };

    private static void Print(IReadOnlyList<SloStatus> statuses)
    {
        var summary = new Table().AddColumns("SLO", "Function", "SLI", "Objective", "Window", "Invocations", "Error ratio", "Budget remaining", "Burning now");
        foreach (var s in statuses)
        {
            var remaining = s.BudgetRemaining switch
            {
                null => "[grey]no data[/]",
                < 0 => $"[red]{Percent(s.BudgetRemaining)}[/]",
                < 0.25 => $"[yellow]{Percent(s.BudgetRemaining)}[/]",
                _ => $"[green]{Percent(s.BudgetRemaining)}[/]",
            };
            var burning = s.Burning.Count == 0
                ? "[green]-[/]"
                : string.Join(", ", s.Burning.Select(b => $"[{(b.Severity == "page" ? "red" : "yellow")}]{b.Severity} {Number((double)b.Factor)}x ({b.Long}/{b.Short})[/]"));
            var sli = s.Spec.ThresholdSeconds is { } t ? $"latency ≤ {SloSpecLoader.Format(t)} s" : s.Spec.SliName;
            summary.AddRow(
                Markup.Escape(s.Spec.Name), Markup.Escape(s.Spec.Function), Markup.Escape(sli), SloSpecLoader.Format(s.Spec.ObjectivePercent) + "%",
                s.Spec.Window.Text + (s.Earliest is { } e && e > s.At - s.Spec.Window.Length ? $" (data since {e:yyyy-MM-dd HH:mm}Z)" : string.Empty),
                Number(s.SloWindow.Total), Percent(s.SloWindow.ErrorRatio), remaining, burning);
        }

        AnsiConsole.Write(summary);
        var burn = new Table().Title("Burn rates (1 = spending the budget exactly over the window)").AddColumn("SLO");
        foreach (var window in BurnRateWindow.RecordedWindows)
        {
            burn.AddColumn(new TableColumn(window).RightAligned());
        }

        foreach (var s in statuses)
        {
            burn.AddRow([Markup.Escape(s.Spec.Name), .. BurnRateWindow.RecordedWindows.Select(w => s.Window(w).BurnRate is { } r ? Number(r) + "x" : "-")]);
        }

        AnsiConsole.Write(burn);
    }

    private static string Percent(double? ratio) => ratio is { } r ? (r * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%" : "-";

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
