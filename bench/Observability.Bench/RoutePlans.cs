using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using Observability.Testing;

namespace Observability.Bench;

/// <summary>
/// The plans of exactly the SQL the collector runs for a route, with EXPLAIN (ANALYZE, BUFFERS)'s detail: the analysis
/// stores keep their SQL private, so rather than copy it, a second collector is started on the same database with
/// PostgreSQL's auto_explain loaded into its sessions (log_analyze, log_buffers), each route is called once through it,
/// and the plans are read back from the server log. Only the local cluster's log is readable here.
/// </summary>
internal static partial class RoutePlans
{
    private const int StatementsShown = 4;

    /// <summary>Writes the statements of one call of each route (name and path); the first route gets the full plan of its slowest.</summary>
    public static async Task WriteAsync(TextWriter output, PostgresServer postgres, string database, IReadOnlyList<(string Name, string Path)> routes)
    {
        var logFile = postgres.Kind == "local" ? await LogFileAsync(database) : null;
        if (logFile is null || !File.Exists(logFile))
        {
            output.WriteLine($"Plans: not read, the {postgres.Kind} cluster's server log is not readable from here.");
            return;
        }

        var name = new NpgsqlConnectionStringBuilder(database).Database!;
        await using (var conn = new NpgsqlConnection(postgres.AdminConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                $"ALTER DATABASE {name} SET session_preload_libraries = 'auto_explain'; ALTER DATABASE {name} SET auto_explain.log_min_duration = 0; " +
                $"ALTER DATABASE {name} SET auto_explain.log_analyze = on; ALTER DATABASE {name} SET auto_explain.log_buffers = on", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        // New sessions only: the measured collector's pooled sessions were opened without auto_explain and stay so.
        await using var explained = await CollectorRunner.StartAsync(database);
        output.WriteLine("Statements of one call of each route, slowest route first (auto_explain: EXPLAIN ANALYZE, BUFFERS of the collector's own SQL):");
        output.WriteLine();
        for (var i = 0; i < routes.Count; i++)
        {
            var offset = new FileInfo(logFile).Length;
            string answer;
            try
            {
                var ms = await QueryTiming.TimeAsync(explained.Query, routes[i].Path);
                answer = string.Create(CultureInfo.InvariantCulture, $"{ms:0.0} ms through the API (with auto_explain's timing)");
            }
            catch (InvalidOperationException e)
            {
                answer = $"FAILED ({e.Message})";
            }

            // Each statement's plan is written before its session answers the collector, so before the route answers;
            // the poll only bounds the wait should the file lag.
            var plans = answer.StartsWith("FAILED", StringComparison.Ordinal)
                ? await ReadPlansAsync(logFile, offset)
                : await Poll.UntilAsync(() => ReadPlansAsync(logFile, offset), p => p.Count > 0, TimeSpan.FromSeconds(10), "the route's plans in the server log");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{routes[i].Name}: {answer}, {plans.Count} statements, {plans.Sum(p => p.Ms):0.0} ms in PostgreSQL; slowest:"));
            foreach (var p in plans.OrderByDescending(p => p.Ms).Take(StatementsShown))
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {p.Ms,9:0.0} ms  {Shorten(p.Query)}"));
            }

            if (i == 0 && plans.Count > 0)
            {
                var slowest = plans.MaxBy(p => p.Ms)!;
                output.WriteLine();
                output.WriteLine($"Plan of its slowest statement:");
                output.WriteLine("```");
                output.WriteLine(slowest.Plan);
                output.WriteLine("```");
            }

            output.WriteLine();
        }
    }

    private sealed record StatementPlan(double Ms, string Query, string Plan);

    /// <summary>pg_ctl writes the local cluster's log next to its data directory (LocalPostgres).</summary>
    private static async Task<string?> LogFileAsync(string database)
    {
        var data = await Sql.ScalarAsync<string>(database, "SELECT current_setting('data_directory')");
        return Path.GetDirectoryName(data) is { } parent ? Path.Combine(parent, "postgres.log") : null;
    }

    private static async Task<List<StatementPlan>> ReadPlansAsync(string logFile, long offset)
    {
        await using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        var plans = new List<StatementPlan>();
        foreach (Match m in Entry().Matches(text))
        {
            var body = m.Groups["body"].Value;
            var query = QueryText().Match(body);
            plans.Add(new StatementPlan(double.Parse(m.Groups["ms"].Value, CultureInfo.InvariantCulture), query.Success ? query.Groups[1].Value : "?", body.TrimEnd()));
        }

        return plans;
    }

    private static string Shorten(string sql)
    {
        var flat = Whitespace().Replace(sql, " ").Trim();
        return flat.Length <= 160 ? flat : flat[..160] + "…";
    }

    // "… LOG:  duration: 12.345 ms  plan:" then the plan, every line of it indented by a tab.
    [GeneratedRegex(@"LOG:  duration: (?<ms>[0-9.]+) ms  plan:\n(?<body>(?:\t.*\n?)*)")]
    private static partial Regex Entry();

    [GeneratedRegex(@"Query Text: ((?:.|\n)*?)\n\t[A-Z][a-zA-Z ]+(?:  |\(| on )")]
    private static partial Regex QueryText();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
