using System.CommandLine;
using System.Text.Json;
using Observability.Cli.Terminal;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>`obs traces search`: traces by service, function, operation, duration, errors and attributes (GET /api/v1/traces).</summary>
internal static class TracesCommand
{
    public static Command Create() => new("traces", "Find traces.") { CreateSearch() };

    private static Command CreateSearch()
    {
        var service = new Option<string?>("--service") { Description = "Only traces with a span of this service." };
        var function = new Option<string?>("--function") { Description = "Only traces with a span of this function (faas.name)." };
        var operation = new Option<string?>("--operation") { Description = "Only traces with a span of this name (such as \"GET /items/{id}\")." };
        var since = new Option<string>("--since") { Description = "How far back to look (30m, 1h, 2d).", DefaultValueFactory = _ => "1h" };
        var minDuration = new Option<string?>("--min-duration") { Description = "Only spans at least this long (250ms, 1.5s)." };
        var errors = new Option<bool>("--errors") { Description = "Only traces with an error span." };
        var attributes = new Option<string[]>("--attr") { Description = "Only spans with this attribute value, as KEY=VALUE (repeatable).", AllowMultipleArgumentsPerToken = false };
        var paging = new ListPaging("trace", "traces");
        var command = new Command("search", "Find traces, newest first.")
        {
            service, function, operation, since, minDuration, errors, attributes,
        };
        paging.AddTo(command);
        QueryCommand.Attach(command, "obs traces search", async run =>
        {
            var r = run.Result;
            var now = DateTime.UtcNow;
            List<KeyValuePair<string, string?>> query =
            [
                .. Invocation.Range(r.GetValue(since)!, now),
                new("service", r.GetValue(service)),
                new("function", r.GetValue(function)),
                new("name", r.GetValue(operation)),
                new("minDuration", r.GetValue(minDuration)),
                new("errors", r.GetValue(errors) ? "true" : null),
            ];
            foreach (var attribute in r.GetValue(attributes) ?? [])
            {
                var equals = attribute.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw new UsageException($"--attr \"{attribute}\" is not KEY=VALUE");
                }

                query.Add(new("attr." + attribute[..equals], attribute[(equals + 1)..]));
            }

            var answer = await paging.ReadAsync(run, "api/v1/traces", query, "is the collector as new as this obs?");
            if (run.Json)
            {
                return Invocation.PrintJson(answer.Json);
            }

            if (Print(answer.Json, now))
            {
                paging.PrintFooter(answer);
            }

            return 0;
        });
        return command;
    }

    /// <summary>Prints the traces as a table; false when there were none (and says what to do).</summary>
    private static bool Print(JsonElement answer, DateTime now)
    {
        var items = answer.Items().ToList();
        if (items.Count == 0)
        {
            AnsiConsole.MarkupLine("[yellow]No traces match.[/] Widen the search (a longer --since, fewer filters), or check that your functions export to this collector.");
            return false;
        }

        var table = new Table().AddColumns("Trace", "Root").AddColumn(new TableColumn("Started").NoWrap())
            .AddColumn(new TableColumn("Duration").RightAligned())
            .AddColumn(new TableColumn("Spans").RightAligned())
            .AddColumn(new TableColumn("Errors").RightAligned())
            .AddColumn("Services");
        foreach (var t in items)
        {
            var errors = (int)(t.Num("errorCount") ?? 0);
            table.AddRow(
                Markup.Escape(t.Str("traceId") ?? "?"),
                Markup.Escape($"{t.Str("rootService")}: {t.Str("rootName")}"),
                Human.Short(t.Time("startTime"), now),
                Human.Nanoseconds((long)(t.Num("durationNanos") ?? 0)),
                Human.Count(t.Num("spanCount") ?? 0),
                errors > 0 ? $"[red]{errors}[/]" : "0",
                Markup.Escape(string.Join(", ", t.Items("services").Select(s => s.GetString()))));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey]Open one with [bold]obs trace ID[/].[/]");
        return true;
    }
}
