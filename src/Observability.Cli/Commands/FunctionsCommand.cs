using System.CommandLine;
using System.Text.Json;
using Observability.Cli.Terminal;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>`obs functions`: every function version with its invocations, error and cold-start rates, p95 and idle time.</summary>
internal static class FunctionsCommand
{
    public static Command Create()
    {
        var since = new Option<string>("--since") { Description = "How far back the numbers reach (30m, 1h, 2d).", DefaultValueFactory = _ => "1h" };
        var paging = new ListPaging("function version", "function versions");
        var command = new Command("functions", "Every function version: invocations, error rate, cold-start rate, p95 latency, last invoked, idle time, warm-up policy.")
        {
            since,
        };
        paging.AddTo(command);
        QueryCommand.Attach(command, "obs functions", async run =>
        {
            var now = DateTime.UtcNow;
            var answer = await paging.ReadAsync(run, "api/v1/functions", Invocation.Range(run.Result.GetValue(since)!, now), "is the collector as new as this obs?");
            if (run.Json)
            {
                return Invocation.PrintJson(answer.Json);
            }

            if (Print(answer.Json, run.Result.GetValue(since)!, now))
            {
                paging.PrintFooter(answer);
            }

            return 0;
        });
        return command;
    }

    /// <summary>Prints the versions as a table; false when there were none (and says what to do).</summary>
    private static bool Print(JsonElement answer, string since, DateTime now)
    {
        var items = answer.Items().ToList();
        if (items.Count == 0)
        {
            AnsiConsole.MarkupLine("[yellow]No functions yet.[/] Point a sidecar (or any OTLP exporter with faas.name) at the collector, invoke a function, then run [bold]obs functions[/] again.");
            return false;
        }

        var table = new Table().Title($"Functions (numbers over the last {Markup.Escape(since)})")
            .AddColumns("Function", "Version")
            .AddColumn(new TableColumn("Invocations").RightAligned())
            .AddColumn(new TableColumn("Errors").RightAligned())
            .AddColumn(new TableColumn("Cold starts").RightAligned())
            .AddColumn(new TableColumn("p95").RightAligned())
            .AddColumn(new TableColumn("Last invoked").NoWrap())
            .AddColumns("Idle", "Warm-up");
        foreach (var f in items)
        {
            var range = f.Get("range") ?? default;
            var warmUp = f.Get("warmUp") is { } w
                ? $"{Markup.Escape(w.Str("policy") ?? "?")} ({w.Get("pings")?.Num("warm") ?? 0} warm, {w.Get("pings")?.Num("cold") ?? 0} cold, {w.Get("pings")?.Num("failed") ?? 0} failed)"
                : "[grey]-[/]";
            table.AddRow(
                Markup.Escape(f.Str("name") ?? "?"),
                Markup.Escape(f.Str("version") is { Length: > 0 } v ? v : "-"),
                Human.Count(range.Num("invocations") ?? 0),
                Rate(range.Num("errors") ?? 0, range.Num("errorRate"), "red"),
                Rate(range.Num("coldStarts") ?? 0, range.Num("coldStartRate"), "yellow"),
                Human.Milliseconds(range.Num("p95LatencyMs")),
                Human.Short(f.Time("lastInvoked"), now),
                Human.Seconds(f.Num("idleSeconds")),
                warmUp);
        }

        AnsiConsole.Write(table);
        return true;
    }

    private static string Rate(double count, double? rate, string colour) =>
        count > 0 ? $"[{colour}]{Human.Count(count)} ({Human.Percent(rate)})[/]" : $"0 ({Human.Percent(rate)})";
}
