using System.CommandLine;
using System.Text.Json;
using Observability.Cli.Terminal;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>`obs failures`: failure snapshots grouped by fingerprint (same function, exception and top frames), newest group first.</summary>
internal static class FailuresCommand
{
    public static Command Create()
    {
        var function = new Option<string?>("--function") { Description = "Only this function's failures." };
        var since = new Option<string>("--since") { Description = "How far back to look (1h, 24h, 7d).", DefaultValueFactory = _ => "24h" };
        var paging = new ListPaging("failure group", "failure groups");
        var command = new Command("failures", "Failure snapshots grouped by fingerprint: count, first and last seen, versions, the latest snapshot.")
        {
            function, since, FailureShowCommand.Create(),
        };
        paging.AddTo(command);
        QueryCommand.Attach(command, "obs failures", async run =>
        {
            var r = run.Result;
            var now = DateTime.UtcNow;
            var answer = await paging.ReadAsync(
                run, "api/v1/failures", [.. Invocation.Range(r.GetValue(since)!, now), new("function", r.GetValue(function))], "is the collector as new as this obs?");
            if (run.Json)
            {
                return Invocation.PrintJson(answer.Json);
            }

            if (Print(answer.Json, r.GetValue(since)!, now))
            {
                paging.PrintFooter(answer);
            }

            return 0;
        });
        return command;
    }

    /// <summary>Prints the groups as a table; false when there were none (and says what to do).</summary>
    private static bool Print(JsonElement answer, string since, DateTime now)
    {
        var items = answer.Items().ToList();
        if (items.Count == 0)
        {
            AnsiConsole.MarkupLine($"[green]No failure snapshots in the last {Markup.Escape(since)}.[/] Look further back with --since 7d; sidecars send a snapshot when an invocation fails (docs/failure-snapshots.md).");
            return false;
        }

        var table = new Table().AddColumn(new TableColumn("Fingerprint").NoWrap()).AddColumns("Function", "Failure")
            .AddColumn(new TableColumn("Count").RightAligned())
            .AddColumn(new TableColumn("First seen").NoWrap())
            .AddColumn(new TableColumn("Last seen").NoWrap())
            .AddColumn("Versions");
        foreach (var g in items)
        {
            table.AddRow(
                Markup.Escape(g.Str("fingerprint") ?? "?"),
                Markup.Escape(g.Get("signature")?.Str("function") ?? "?"),
                Describe(g),
                Human.Count(g.Num("count") ?? 0),
                Human.Short(g.Time("firstSeen"), now),
                Human.Short(g.Time("lastSeen"), now),
                Markup.Escape(string.Join(", ", g.Items("versions").Select(v => v.GetString() is { Length: > 0 } s ? s : "-"))));
        }

        AnsiConsole.Write(table);
        if (answer.Bool("truncated"))
        {
            AnsiConsole.MarkupLine($"[yellow]Only the newest {answer.Num("scanned")} snapshots were grouped: narrow --since or give --function.[/]");
        }

        AnsiConsole.MarkupLine("[grey]Show a group or a snapshot with [bold]obs failures show ID[/].[/]");
        return true;
    }

    /// <summary>What failed: the exception type and message, else the trigger, status and route.</summary>
    internal static string Describe(JsonElement group)
    {
        var signature = group.Get("signature") ?? default;
        if (signature.Str("exceptionType") is { } type)
        {
            return $"[red]{Markup.Escape(type)}[/]" + (group.Str("latestMessage") is { } message ? ": " + Markup.Escape(message) : string.Empty);
        }

        return Markup.Escape(string.Join(" ", new[] { signature.Str("trigger"), signature.Str("statusCode"), signature.Str("route") }.Where(s => s is not null)));
    }
}
