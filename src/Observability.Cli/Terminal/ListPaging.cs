using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Observability.Cli.Terminal;

/// <summary>
/// --limit, --cursor, --all and --max of a list command, and how it reads the collector's keyset pages: one page
/// (from --cursor when given), or with --all every page after it until the list ends or --max rows are read. The
/// answer keeps the collector's shape, with every row read in <c>items</c> and the cursor to continue in <c>next</c>.
/// </summary>
internal sealed class ListPaging
{
    /// <summary>Rows --all reads at most unless --max says otherwise: enough for any table a person reads, bounded for memory.</summary>
    public const int DefaultMax = 10_000;

    /// <summary>The page size of --all without --limit: the largest the collector allows by default (its MaxQueryLimit).</summary>
    public const int AllPageSize = 1000;

    private readonly Option<int?> _limit;
    private readonly Option<string?> _cursor;
    private readonly Option<bool> _all;
    private readonly Option<int> _max;
    private readonly string _singular;
    private readonly string _plural;

    /// <param name="singular">What a row is, for messages: "trace", "failure group".</param>
    /// <param name="plural">What the rows are: "traces", "failure groups".</param>
    public ListPaging(string singular, string plural)
    {
        _singular = singular;
        _plural = plural;
        _limit = new Option<int?>("--limit") { Description = $"At most this many {plural} per page (default: the collector's, 20; with --all: {AllPageSize})." };
        _cursor = new Option<string?>("--cursor") { Description = "Start after the page that gave this cursor (its \"next\", as the output prints it)." };
        _all = new Option<bool>("--all") { Description = $"Read every page, following \"next\" until the list ends (at most --max {plural})." };
        _max = new Option<int>("--max") { Description = $"With --all: stop after this many {plural} and print where to continue.", DefaultValueFactory = _ => DefaultMax };
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_limit);
        command.Options.Add(_cursor);
        command.Options.Add(_all);
        command.Options.Add(_max);
    }

    /// <summary>GETs <paramref name="path"/> with <paramref name="parameters"/>, one page or, with --all, every page.</summary>
    public async Task<ListAnswer> ReadAsync(Invocation run, string path, IReadOnlyList<KeyValuePair<string, string?>> parameters, string hint)
    {
        var r = run.Result;
        var limit = r.GetValue(_limit);
        if (limit is < 1)
        {
            throw new UsageException($"--limit {limit} must be at least 1");
        }

        var cursor = string.IsNullOrWhiteSpace(r.GetValue(_cursor)) ? null : r.GetValue(_cursor)!.Trim();
        if (!r.GetValue(_all))
        {
            var page = await run.GetAsync(path, [.. parameters, Limit(limit), new("cursor", cursor)], hint);
            return new ListAnswer(page, page.Items().Count(), page.Str("next"), Capped: false, All: false);
        }

        var max = r.GetValue(_max);
        if (max < 1)
        {
            throw new UsageException($"--max {max} must be at least 1");
        }

        var pageSize = limit ?? AllPageSize;
        var items = new List<JsonElement>();
        JsonElement last = default;
        var next = cursor;
        async Task FollowAsync(Action<int> progress)
        {
            do
            {
                // The last page asks only for what --max leaves, so that its "next" is exactly where the output stops.
                last = await run.GetAsync(path, [.. parameters, Limit(Math.Min(pageSize, max - items.Count)), new("cursor", next)], hint);
                items.AddRange(last.Items());
                next = last.Str("next");
                progress(items.Count);
            }
            while (next is not null && items.Count < max);
        }

        // Progress goes to stderr, and only to a terminal: stdout stays the table or the JSON.
        if (Console.IsErrorRedirected)
        {
            await FollowAsync(_ => { });
        }
        else
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            await console.Status().StartAsync($"Reading {_plural}…", async status =>
                await FollowAsync(n => status.Status($"Reading {_plural}: {n.ToString("#,0", CultureInfo.InvariantCulture)} so far…")));
        }

        var merged = JsonNode.Parse(last.GetRawText())!.AsObject();
        merged["items"] = new JsonArray([.. items.Select(i => JsonNode.Parse(i.GetRawText()))]);
        merged["next"] = next;
        return new ListAnswer(JsonSerializer.SerializeToElement(merged), items.Count, next, Capped: next is not null, All: true);
    }

    /// <summary>How many rows are shown and, when there are more, how to get them: the line under a list's table.</summary>
    public void PrintFooter(ListAnswer answer)
    {
        var rows = $"{answer.Count.ToString("#,0", CultureInfo.InvariantCulture)} {(answer.Count == 1 ? _singular : _plural)}";
        if (answer.Next is { } next)
        {
            var shown = answer.Capped ? $"Stopped at {rows} (--max)" : $"Showing {rows}";
            var all = answer.Capped ? "or a larger --max" : "or --all";
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(shown)}; more: run again with [bold]--cursor {Markup.Escape(next)}[/] ({all}).[/]");
        }
        else if (answer.All)
        {
            AnsiConsole.MarkupLine($"[grey]All {Markup.Escape(rows)}.[/]");
        }
    }

    private static KeyValuePair<string, string?> Limit(int? limit) => new("limit", limit?.ToString(CultureInfo.InvariantCulture));
}

/// <summary>What a list command read: the answer (the collector's shape), how many rows, the cursor to continue from.</summary>
/// <param name="Json">The collector's answer, with every row read in items and the final next.</param>
/// <param name="Count">Rows in <paramref name="Json"/>.</param>
/// <param name="Next">Where the next page starts; null at the end of the list.</param>
/// <param name="Capped">--all stopped at --max with rows left.</param>
/// <param name="All">--all was given.</param>
internal sealed record ListAnswer(JsonElement Json, int Count, string? Next, bool Capped, bool All);
