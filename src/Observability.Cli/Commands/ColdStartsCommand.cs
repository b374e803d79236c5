using System.CommandLine;
using System.Text.Json;
using Observability.Cli.Terminal;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>`obs coldstarts`: per function version, the cold-start rate, init percentiles, what cold starts cost, and the phases as bars.</summary>
internal static class ColdStartsCommand
{
    public static Command Create()
    {
        var function = new Option<string?>("--function") { Description = "Only this function." };
        var version = new Option<string?>("--version") { Description = "Only this version of it." };
        var since = new Option<string>("--since") { Description = "How far back to look (30m, 1h, 2d).", DefaultValueFactory = _ => "1h" };
        var paging = new ListPaging("function version", "function versions");
        var command = new Command("coldstarts", "Cold starts per function version: rate, init duration p50/p95/p99, phases, what they cost the tail.")
        {
            function, version, since, ColdStartsCompareCommand.Create(),
        };
        paging.AddTo(command);
        QueryCommand.Attach(command, "obs coldstarts", async run =>
        {
            var r = run.Result;
            var now = DateTime.UtcNow;
            var answer = await paging.ReadAsync(
                run,
                "api/v1/coldstarts",
                [.. Invocation.Range(r.GetValue(since)!, now), new("function", r.GetValue(function)), new("version", r.GetValue(version))],
                "is the collector as new as this obs?");
            if (run.Json)
            {
                return Invocation.PrintJson(answer.Json);
            }

            if (Print(answer.Json, r.GetValue(since)!))
            {
                paging.PrintFooter(answer);
            }

            return 0;
        });
        return command;
    }

    /// <summary>Prints the versions as a table with their phase charts; false when there were none (and says what to do).</summary>
    private static bool Print(JsonElement answer, string since)
    {
        var items = answer.Items().ToList();
        if (items.Count == 0)
        {
            AnsiConsole.MarkupLine($"[yellow]No invocations in the last {Markup.Escape(since)}.[/] Look further back with --since (such as --since 1d), or check the function name with [bold]obs functions[/].");
            return false;
        }

        var table = new Table().Title($"Cold starts (last {Markup.Escape(since)}, warm-up pings left out)")
            .AddColumns("Function", "Version")
            .AddColumn(new TableColumn("Invocations").RightAligned())
            .AddColumn(new TableColumn("Cold starts").RightAligned())
            .AddColumn(new TableColumn("Rate").RightAligned())
            .AddColumn(new TableColumn("Init p50").RightAligned())
            .AddColumn(new TableColumn("Init p95").RightAligned())
            .AddColumn(new TableColumn("Init p99").RightAligned())
            .AddColumn(new TableColumn("1st call extra").RightAligned())
            .AddColumn(new TableColumn("Cold share ≥ p99").RightAligned())
            .AddColumn(new TableColumn("p99 / without cold").RightAligned());
        foreach (var c in items)
        {
            var init = c.Get("initMs") ?? default;
            var tail = c.Get("tail") ?? default;
            table.AddRow(
                Markup.Escape(c.Str("name") ?? "?"),
                Markup.Escape(c.Str("version") is { Length: > 0 } v ? v : "-"),
                Human.Count(c.Num("invocations") ?? 0),
                Human.Count(c.Num("coldStarts") ?? 0) + (c.Num("pingColdStarts") is { } p && p > 0 ? $" [grey](+{Human.Count(p)} pings)[/]" : string.Empty),
                Human.Percent(c.Num("coldStartRate")),
                Human.Milliseconds(init.Num("p50")),
                Human.Milliseconds(init.Num("p95")),
                Human.Milliseconds(init.Num("p99")),
                Human.Milliseconds(c.Get("firstInvocation")?.Num("extraMs")),
                Human.Percent(tail.Num("coldShareAtOrAboveP99")),
                $"{Human.Milliseconds(tail.Num("p99Ms"))} / {Human.Milliseconds(tail.Num("p99WithoutColdMs"))}");
        }

        AnsiConsole.Write(table);
        foreach (var c in items)
        {
            PrintPhases(c);
        }

        return true;
    }

    // The median of each phase as a bar: where a cold start spends its time (spawn, init, runtime start, app init, first request).
    private static void PrintPhases(JsonElement c)
    {
        var phases = c.Items("phases").Where(p => p.Num("medianMs") is not null).ToList();
        var title = $"{Markup.Escape(c.Str("name") ?? "?")} {Markup.Escape(c.Str("version") ?? string.Empty)}";
        if (phases.Count == 0)
        {
            AnsiConsole.MarkupLine($"[grey]{title}: no cold-start records with phases (the sidecar records them: docs/cold-start-analysis.md).[/]");
            return;
        }

        var chart = new BarChart().Label($"[bold]{title}[/]: cold-start phases, median ms ({Human.Count(c.Num("records") ?? 0)} records)").Width(80);
        var colours = new[] { Color.Grey, Color.Blue, Color.Aqua, Color.Green, Color.Yellow };
        for (var i = 0; i < phases.Count; i++)
        {
            chart.AddItem(phases[i].Str("phase") ?? "?", Math.Round(phases[i].Num("medianMs")!.Value, 1), colours[i % colours.Length]);
        }

        AnsiConsole.Write(chart);
        var top = c.Get("startupProfile")?.Items("topAssemblies").Take(3).Select(a => $"{a.Str("name")} {Human.Milliseconds(a.Num("meanMs"))}").ToList();
        if (top is { Count: > 0 })
        {
            AnsiConsole.MarkupLine($"[grey]  Slowest assemblies to load (mean per cold start): {Markup.Escape(string.Join(", ", top))}[/]");
        }
    }
}
