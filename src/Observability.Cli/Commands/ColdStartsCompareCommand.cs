using System.CommandLine;
using System.Globalization;
using System.Text;
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
            var query = new StringBuilder("api/v1/coldstarts/compare?function=").Append(Uri.EscapeDataString(r.GetValue(function)!));
            if (r.GetValue(from) is { Length: > 0 } f)
            {
                query.Append("&from=").Append(Uri.EscapeDataString(f));
            }

            if (r.GetValue(to) is { Length: > 0 } t)
            {
                query.Append("&to=").Append(Uri.EscapeDataString(t));
            }

            var answer = await run.GetAsync(query.ToString(), "list the function's versions with obs coldstarts --function F --since 7d");
            if (run.Json)
            {
                return Invocation.PrintJson(answer);
            }

            Print(answer);
            return 0;
        });
        return command;
    }

    // Every number of the comparison as a row (path, value), so that whatever the collector adds is shown; the flag on top.
    private static void Print(JsonElement answer)
    {
        var regression = Find(answer, "regression");
        AnsiConsole.MarkupLine(regression switch
        {
            { ValueKind: JsonValueKind.True } => "[white on red] REGRESSION [/] the newer version starts slower or colder, beyond chance",
            { ValueKind: JsonValueKind.False } => "[green]No regression[/]: no significant worsening of init p95 or cold-start rate",
            _ => "[grey]No regression verdict (too few cold starts to test).[/]",
        });
        var table = new Table().AddColumn("What").AddColumn(new TableColumn("Value").RightAligned());
        foreach (var (path, value) in Flatten(answer, string.Empty))
        {
            table.AddRow(Markup.Escape(path), Markup.Escape(Format(path, value)));
        }

        AnsiConsole.Write(table);
    }

    private static JsonElement? Find(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (property.NameEquals(name))
            {
                return property.Value;
            }

            if (Find(property.Value, name) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    private static IEnumerable<(string Path, JsonElement Value)> Flatten(JsonElement element, string prefix)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                foreach (var item in Flatten(property.Value, prefix.Length == 0 ? property.Name : prefix + "." + property.Name))
                {
                    yield return item;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in element.EnumerateArray())
            {
                foreach (var inner in Flatten(item, $"{prefix}[{i++}]"))
                {
                    yield return inner;
                }
            }
        }
        else if (element.ValueKind != JsonValueKind.Null)
        {
            yield return (prefix, element);
        }
    }

    private static string Format(string path, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when path.EndsWith("Ms", StringComparison.Ordinal) => Human.Milliseconds(value.GetDouble()),
        JsonValueKind.Number when path.EndsWith("Rate", StringComparison.Ordinal) => Human.Percent(value.GetDouble()),
        JsonValueKind.Number => value.GetDouble().ToString("0.####", CultureInfo.InvariantCulture),
        JsonValueKind.String => value.GetString() ?? string.Empty,
        _ => value.ToString(),
    };
}
