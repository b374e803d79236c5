using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Observability.Cli.Terminal;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>
/// `obs coldstarts compare`: two versions of a function (by default the newest against the one before): the change in
/// init p95 and in cold-start rate, the tests' statistics and p-values, and the regression flag.
/// </summary>
internal static class ColdStartsCompareCommand
{
    public static Command Create()
    {
        var function = new Option<string>("--function") { Description = "The function.", Required = true };
        var from = new Option<string?>("--from") { Description = "The version to compare against (default: the one before --to)." };
        var to = new Option<string?>("--to") { Description = "The version to judge (default: the newest)." };
        var command = new Command("compare", "Compare the cold starts of two versions of a function: change in init p95 and cold-start rate, significance, regression flag.")
        {
            function, from, to,
        };
        QueryCommand.Attach(command, "obs coldstarts compare", async run =>
        {
            var r = run.Result;
            var answer = await run.GetAsync(
                "api/v1/coldstarts/compare",
                [new("function", r.GetValue(function)), new("from", r.GetValue(from)), new("to", r.GetValue(to))],
                "list the function's versions with obs coldstarts --function F --since 7d");
            if (run.Json)
            {
                return Invocation.PrintJson(answer);
            }

            Print(answer);
            return 0;
        });
        return command;
    }

    private static void Print(JsonElement c)
    {
        var from = c.Get("from") ?? default;
        var to = c.Get("to") ?? default;
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(c.Str("function") ?? "?")}[/]: version {Markup.Escape(from.Str("version") ?? "?")} → {Markup.Escape(to.Str("version") ?? "?")}");
        if (c.Bool("regression"))
        {
            AnsiConsole.MarkupLine("[white on red] REGRESSION [/]");
            foreach (var reason in c.Items("reasons"))
            {
                AnsiConsole.MarkupLine($"  [red]•[/] {Markup.Escape(reason.GetString() ?? string.Empty)}");
            }
        }
        else
        {
            AnsiConsole.MarkupLine("[green]No regression[/]" + (c.Items("reasons").Any() ? ": " + Markup.Escape(string.Join("; ", c.Items("reasons").Select(r => r.GetString()))) : string.Empty));
        }

        var table = new Table().AddColumn(string.Empty)
            .AddColumn(new TableColumn(Markup.Escape(from.Str("version") ?? "from")).RightAligned())
            .AddColumn(new TableColumn(Markup.Escape(to.Str("version") ?? "to")).RightAligned())
            .AddColumn(new TableColumn("Change").RightAligned());
        table.AddRow("First seen", Human.Short(from.Time("firstSeen"), DateTime.UtcNow), Human.Short(to.Time("firstSeen"), DateTime.UtcNow), string.Empty);
        table.AddRow(
            "Cold-start records", Human.Count(from.Num("records") ?? 0) + Truncated(from), Human.Count(to.Num("records") ?? 0) + Truncated(to), string.Empty);
        table.AddRow("Init p50", Human.Milliseconds(from.Num("initP50Ms")), Human.Milliseconds(to.Num("initP50Ms")), string.Empty);
        table.AddRow(
            "Init p95", Human.Milliseconds(from.Num("initP95Ms")), Human.Milliseconds(to.Num("initP95Ms")),
            Signed(c.Num("initP95ChangeMs"), Human.Milliseconds) + (c.Num("initP95ChangeRatio") is { } ratio ? $" ({Signed(ratio, Human.Percent)})" : string.Empty));
        table.AddRow("Invocations", Human.Count(from.Num("invocations") ?? 0), Human.Count(to.Num("invocations") ?? 0), string.Empty);
        table.AddRow("Cold starts", Human.Count(from.Num("coldStarts") ?? 0), Human.Count(to.Num("coldStarts") ?? 0), string.Empty);
        table.AddRow(
            "Cold-start rate", Human.Percent(from.Num("coldStartRate")), Human.Percent(to.Num("coldStartRate")),
            Signed(c.Num("coldStartRateChange") * 100, p => p!.Value.ToString("0.##", CultureInfo.InvariantCulture)) + (c.Num("coldStartRateChange") is null ? string.Empty : " points"));
        AnsiConsole.Write(table);

        var tests = new Table().Title("Significance (two-sided)").AddColumn("Test")
            .AddColumn(new TableColumn("Statistic").RightAligned())
            .AddColumn(new TableColumn("z").RightAligned())
            .AddColumn(new TableColumn("p").RightAligned());
        foreach (var (name, key) in new[] { ("Mann-Whitney U (init durations)", "mannWhitney"), ("Two-proportion z (cold-start rate)", "twoProportion") })
        {
            if (c.Get(key) is { } test)
            {
                tests.AddRow(name, Number(test.Num("statistic")), Number(test.Num("z")), PValue(test.Num("pValue")));
            }
            else
            {
                tests.AddRow(name, "[grey]too few data on one side[/]", string.Empty, string.Empty);
            }
        }

        AnsiConsole.Write(tests);
        if (c.Str("rule") is { } rule)
        {
            AnsiConsole.MarkupLine($"[grey]Rule: {Markup.Escape(rule)}.[/]");
        }
    }

    private static string Truncated(JsonElement side) => side.Bool("recordsTruncated") ? " [grey](newest only)[/]" : string.Empty;

    // The sign apart from the number: the formats (ms, %) are for sizes.
    private static string Signed(double? value, Func<double?, string> format) => value switch
    {
        null => "-",
        < 0 => "-" + format(-value),
        _ => "+" + format(value),
    };

    private static string Number(double? value) => value?.ToString("0.####", CultureInfo.InvariantCulture) ?? "-";

    private static string PValue(double? p) => p switch
    {
        null => "-",
        < 0.0001 => "< 0.0001",
        < 0.05 => $"[bold]{p.Value.ToString("0.####", CultureInfo.InvariantCulture)}[/]",
        _ => p.Value.ToString("0.####", CultureInfo.InvariantCulture),
    };
}
