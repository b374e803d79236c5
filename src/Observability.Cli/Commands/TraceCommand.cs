using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Observability.Cli.Terminal;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>`obs trace ID`: one trace's span tree, each span a bar on the trace's time axis, coloured by status, cold starts marked.</summary>
internal static class TraceCommand
{
    /// <summary>Characters of the time axis: enough to tell spans apart, narrow enough for a laptop terminal beside the names.</summary>
    public const int AxisWidth = 40;

    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "The trace id (32 hex digits), as obs traces search lists it." };
        var command = new Command("trace", "Show one trace: its span tree on a time axis, with durations, status and cold starts.") { id };
        QueryCommand.Attach(command, "obs trace", async run =>
        {
            var traceId = run.Result.GetValue(id)!.Trim().ToLowerInvariant();
            if (traceId.Length != 32 || !traceId.All(char.IsAsciiHexDigit))
            {
                throw new UsageException($"\"{traceId}\" is not a trace id: 32 hex digits, as obs traces search lists them");
            }

            var answer = await run.GetAsync($"api/v1/traces/{traceId}", "the collector has no span of it (yet, or any more): find traces with obs traces search");
            if (run.Json)
            {
                return Invocation.PrintJson(answer);
            }

            Print(answer, DateTime.UtcNow);
            return 0;
        });
        return command;
    }

    private static void Print(JsonElement trace, DateTime now)
    {
        var spans = trace.Items("spans").ToList();
        var traceStart = StartNanos(spans);
        var total = Math.Max(1, spans.Max(s => StartNanos(s) + (long)(s.Num("durationNanos") ?? 0)) - traceStart);
        var errors = (int)(trace.Num("errorCount") ?? 0);
        AnsiConsole.MarkupLine(
            $"Trace [bold]{Markup.Escape(trace.Str("traceId") ?? "?")}[/]: {spans.Count} spans, {Human.Nanoseconds(total)}, " +
            $"{(errors > 0 ? $"[red]{errors} error{(errors == 1 ? string.Empty : "s")}[/]" : "no errors")}, started {Human.When(trace.Time("startTime"), now)}, " +
            $"services {Markup.Escape(string.Join(", ", trace.Items("services").Select(s => s.GetString())))}");

        var table = new Table().AddColumns("Span", "Service")
            .AddColumn(new TableColumn("Duration").RightAligned())
            .AddColumn($"0 {new string('─', AxisWidth - 3 - Human.Nanoseconds(total).Length)} {Human.Nanoseconds(total)}")
            .AddColumn("Status");
        var guides = TreeGuides(spans);
        for (var i = 0; i < spans.Count; i++)
        {
            var span = spans[i];
            var duration = (long)(span.Num("durationNanos") ?? 0);
            var status = span.Get("status")?.Str("code") ?? "unset";
            var colour = status switch { "error" => "red", "ok" => "green", _ => "blue" };
            var statusText = status == "error" ? $"[red]error[/]{(span.Get("status")?.Str("message") is { } m ? " " + Markup.Escape(m) : string.Empty)}" : status;
            table.AddRow(
                $"[grey]{guides[i]}[/]{Markup.Escape(span.Str("name") ?? "?")}{ColdStartMark(span)}",
                Markup.Escape(span.Str("service") ?? "?"),
                Human.Nanoseconds(duration),
                Bar(StartNanos(span) - traceStart, duration, total, colour),
                statusText);
        }

        AnsiConsole.Write(table);
    }

    /// <summary>The span's place on the axis: a dot per empty slot, a block per slot it covers (at least one, so a short span still shows).</summary>
    internal static string Bar(long offsetNanos, long durationNanos, long totalNanos, string colour)
    {
        var from = (int)Math.Clamp(Math.Floor((double)offsetNanos / totalNanos * AxisWidth), 0, AxisWidth - 1);
        var length = (int)Math.Clamp(Math.Round((double)durationNanos / totalNanos * AxisWidth), 1, AxisWidth - from);
        return $"[grey]{new string('·', from)}[/][{colour}]{new string('█', length)}[/][grey]{new string('·', AxisWidth - from - length)}[/]";
    }

    private static string ColdStartMark(JsonElement span)
    {
        if (span.Get("function")?.Bool("coldStart") == true)
        {
            return " [black on yellow] cold start [/]";
        }

        var phase = span.Get("attributes")?.Str("obs.coldstart.phase");
        return phase is not null ? $" [yellow](cold-start phase {Markup.Escape(phase)})[/]"
            : span.Str("name") == "faas.coldstart" ? " [yellow](cold-start record)[/]"
            : span.Bool("warmUp") ? " [grey](warm-up ping)[/]"
            : string.Empty;
    }

    // The spans come in tree order with their depth (parents first, siblings by start): draw ├─/└─ and │ from that.
    private static string[] TreeGuides(List<JsonElement> spans)
    {
        var depths = spans.Select(s => (int)(s.Num("depth") ?? 0)).ToArray();
        var guides = new string[spans.Count];
        for (var i = 0; i < spans.Count; i++)
        {
            var text = new StringBuilder();
            for (var level = 1; level <= depths[i]; level++)
            {
                var more = HasLaterSibling(depths, i, level);
                text.Append(level == depths[i] ? (more ? "├─ " : "└─ ") : (more ? "│  " : "   "));
            }

            guides[i] = text.ToString();
        }

        return guides;
    }

    // Whether the ancestor of span i at this level (or span i itself at its own level) has a sibling after it.
    private static bool HasLaterSibling(int[] depths, int i, int level)
    {
        for (var j = i + 1; j < depths.Length; j++)
        {
            if (depths[j] < level)
            {
                return false;
            }

            if (depths[j] == level)
            {
                return true;
            }
        }

        return false;
    }

    private static long StartNanos(JsonElement span) =>
        long.TryParse(span.Str("startTimeUnixNano"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var nanos) ? nanos : 0;

    private static long StartNanos(List<JsonElement> spans) => spans.Count == 0 ? 0 : spans.Min(StartNanos);
}
