using System.CommandLine;
using System.Text.Json;
using Observability.Cli.Terminal;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>
/// `obs failures show ID`: a failure group (its 16-digit fingerprint: the group, its snapshots and the newest one
/// whole) or one snapshot (its 32-digit id): exception with stack, request, response, logs, process state, environment;
/// with --dump FILE, the snapshot's dump saved to FILE (<see cref="DumpDownload"/>).
/// </summary>
internal static class FailureShowCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "A group's fingerprint (16 hex digits) or a snapshot id (32 hex digits), as obs failures lists them." };
        var since = new Option<string>("--since") { Description = "For a fingerprint: how far back to look for its snapshots (1h, 24h, 7d).", DefaultValueFactory = _ => "24h" };
        var dump = new Option<string?>("--dump") { Description = "For a snapshot id: also save its dump to this file (when the sidecar wrote one and uploaded it).", HelpName = "FILE" };
        var command = new Command("show", "Show a failure group or snapshot: exception with stack, request and response, logs, process state, the trace.") { id, since, dump };
        var paging = new ListPaging("snapshot", "snapshots"); // of a group
        paging.AddTo(command);
        QueryCommand.Attach(command, "obs failures show", async run =>
        {
            var value = run.Result.GetValue(id)!.Trim().ToLowerInvariant();
            if (!value.All(char.IsAsciiHexDigit) || value.Length is not (16 or 32))
            {
                throw new UsageException($"\"{value}\" is neither a failure fingerprint (16 hex digits) nor a snapshot id (32 hex digits): obs failures lists both");
            }

            var dumpFile = run.Result.GetValue(dump);
            if (dumpFile is not null && value.Length != 32)
            {
                throw new UsageException($"--dump needs a snapshot id (32 hex digits), not a group's fingerprint: obs failures show {value} lists the group's snapshots");
            }

            var now = DateTime.UtcNow;
            if (value.Length == 32)
            {
                var snapshot = await run.GetAsync($"api/v1/snapshots/{value}", "obs failures lists the snapshots the collector has");
                if (run.Json)
                {
                    Invocation.PrintJson(snapshot);
                }
                else
                {
                    PrintSnapshot(snapshot, now);
                }

                return dumpFile is null ? 0 : await DumpDownload.SaveAsync(run, value, snapshot, dumpFile);
            }

            var answer = await paging.ReadAsync(
                run, $"api/v1/failures/{value}", Invocation.Range(run.Result.GetValue(since)!, now), "obs failures lists the groups (look further back with --since 7d)");
            var group = answer.Json;
            var latestId = group.Get("group")?.Str("latestSnapshotId");
            var latest = latestId is null ? (JsonElement?)null : await run.GetAsync($"api/v1/snapshots/{latestId}", "the snapshot went between two requests: try again");
            if (run.Json)
            {
                return Invocation.PrintJson(JsonSerializer.SerializeToElement(new { failure = group, latestSnapshot = latest }, Client.CliJson.Options));
            }

            PrintGroup(group, now);
            paging.PrintFooter(answer);
            if (latest is { } l)
            {
                AnsiConsole.Write(new Rule("[bold]The newest snapshot[/]").LeftJustified());
                PrintSnapshot(l, now);
            }

            return 0;
        });
        return command;
    }

    private static void PrintGroup(JsonElement detail, DateTime now)
    {
        var g = detail.Get("group") ?? default;
        var signature = g.Get("signature") ?? default;
        var facts = new Grid().AddColumn().AddColumn();
        facts.AddRow("[bold]Failure group[/]", Markup.Escape(g.Str("fingerprint") ?? "?"));
        facts.AddRow("Function", Markup.Escape(signature.Str("function") ?? "?"));
        facts.AddRow("Failure", FailuresCommand.Describe(g));
        facts.AddRow("Count", Human.Count(g.Num("count") ?? 0));
        facts.AddRow("First seen", Human.When(g.Time("firstSeen"), now));
        facts.AddRow("Last seen", Human.When(g.Time("lastSeen"), now));
        facts.AddRow("Versions", Markup.Escape(string.Join(", ", g.Items("versions").Select(v => v.GetString()))));
        if (g.Str("sampleTraceId") is { } trace)
        {
            facts.AddRow("Sample trace", $"obs trace {Markup.Escape(trace)}");
        }

        AnsiConsole.Write(facts);
        if (signature.Items("frames").Any())
        {
            AnsiConsole.MarkupLine("[grey]Grouped by these top frames (normalised):[/]");
            foreach (var frame in signature.Items("frames"))
            {
                AnsiConsole.MarkupLine($"  [grey]at[/] {Markup.Escape(frame.GetString() ?? string.Empty)}");
            }
        }

        var snapshots = new Table().Title("Snapshots, newest first").AddColumns("Snapshot", "Time", "Version", "Instance", "Status", "Trace");
        foreach (var s in detail.Items())
        {
            snapshots.AddRow(
                Markup.Escape(s.Str("id") ?? "?"), Human.Short(s.Time("time"), now), Markup.Escape(s.Str("version") ?? "-"),
                Markup.Escape(s.Str("instance") ?? "-"), Markup.Escape(s.Str("statusCode") ?? "-"), Markup.Escape(s.Str("traceId") ?? "-"));
        }

        AnsiConsole.Write(snapshots);
    }

    private static void PrintSnapshot(JsonElement detail, DateTime now)
    {
        var summary = detail.Get("summary") ?? default;
        var body = detail.Get("snapshot") ?? default;
        var facts = new Grid().AddColumn().AddColumn();
        facts.AddRow("[bold]Snapshot[/]", Markup.Escape(summary.Str("id") ?? "?"));
        facts.AddRow("Time", Human.When(summary.Time("time"), now));
        facts.AddRow("Function", Markup.Escape($"{summary.Str("function")} {summary.Str("version")} on {summary.Str("instance") ?? "?"}"));
        facts.AddRow("Trigger", Markup.Escape(summary.Str("trigger") ?? "-"));
        facts.AddRow("Group", Markup.Escape(detail.Str("fingerprint") ?? "-"));
        if (summary.Str("traceId") is { } trace)
        {
            facts.AddRow("Trace", $"obs trace {Markup.Escape(trace)}" + (detail.Str("uiTraceLink") is { } ui ? $"  [grey]({Markup.Escape(ui)})[/]" : string.Empty));
        }

        AnsiConsole.Write(facts);
        foreach (var exception in body.Items("exceptions"))
        {
            var text = $"[bold red]{Markup.Escape(exception.Str("type") ?? "exception")}[/]: {Markup.Escape(exception.Str("message") ?? string.Empty)}";
            if (exception.Str("stackTrace") is { Length: > 0 } stack)
            {
                text += "\n" + Markup.Escape(stack);
            }

            AnsiConsole.Write(new Panel(text).Header("Exception").BorderColor(Color.Red).Expand());
        }

        Section("Request", body.Get("request"));
        Section("Response", body.Get("response"));
        Lines("Logs", body.Get("logs"));
        Section("Process", body.Get("process"));
        Section("Environment (redacted by the sidecar)", body.Get("environment"));
        if (detail.Get("dump") is { } dump)
        {
            AnsiConsole.MarkupLine(dump.Get("downloadable") is { ValueKind: JsonValueKind.True }
                ? $"[bold]Dump[/]: {Markup.Escape(dump.Str("kind") ?? string.Empty)} held by the collector: save it with [bold]obs failures show {Markup.Escape(summary.Str("id") ?? "ID")} --dump FILE[/]"
                : $"[bold]Dump[/]: {Markup.Escape(dump.Str("path") ?? "-")} {Markup.Escape(dump.Str("reason") ?? string.Empty)}");
        }
    }

    // An object part of the snapshot as "key: value" lines (nested objects, such as headers, indented under their key).
    private static void Section(string title, JsonElement? part)
    {
        if (part is not { ValueKind: JsonValueKind.Object } value)
        {
            return;
        }

        var grid = new Grid().AddColumn(new GridColumn().PadRight(2)).AddColumn();
        AddRows(grid, value, string.Empty);
        AnsiConsole.Write(new Panel(grid).Header(title).Expand());
    }

    private static void AddRows(Grid grid, JsonElement value, string indent)
    {
        foreach (var property in value.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                grid.AddRow(Markup.Escape(indent + property.Name), property.Value.EnumerateObject().Any() ? string.Empty : "[grey](none)[/]");
                AddRows(grid, property.Value, indent + "  ");
            }
            else
            {
                grid.AddRow(Markup.Escape(indent + property.Name), Markup.Escape(property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText()));
            }
        }
    }

    private static void Lines(string title, JsonElement? part)
    {
        if (part is not { ValueKind: JsonValueKind.Array } lines)
        {
            return;
        }

        var text = string.Join("\n", lines.EnumerateArray().Select(l => l.ValueKind == JsonValueKind.String ? l.GetString() : l.GetRawText()));
        AnsiConsole.Write(new Panel(Markup.Escape(text.Length == 0 ? "(none)" : text)).Header(title).Expand());
    }
}
