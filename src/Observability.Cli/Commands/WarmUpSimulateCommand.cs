using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Observability.WarmUp.Policies;
using Observability.WarmUp.Simulation;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>`obs warmup simulate`: replays a trace against warm-up policies and compares them side by side.</summary>
internal static class WarmUpSimulateCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Create()
    {
        var traces = new Option<string[]>("--trace") { Description = "Trace files: CSV (function,timestamp) or Azure Functions 2019 day files (invocations_per_function_md.anon.dNN.csv, in day order).", AllowMultipleArgumentsPerToken = true };
        var policies = new Option<string[]>("--policy") { Description = $"Policy to compare (repeatable): {string.Join(", ", WarmUpPolicies.Names)}. Default: all.", AllowMultipleArgumentsPerToken = true };
        var keepAlive = new Option<string>("--keep-alive") { Description = "The platform's keep-alive: an instance goes cold after this long idle.", DefaultValueFactory = _ => "10m" };
        var margin = new Option<string?>("--margin") { Description = "How long before the keep-alive runs out a keep-warm ping is sent (default: 30s, or a tenth of the keep-alive if shorter)." };
        var fixedInterval = new Option<string>("--fixed-interval") { Description = "The fixed policy's interval.", DefaultValueFactory = _ => "5m" };
        var budget = new Option<int?>("--budget-per-hour") { Description = "Ping budget per function and hour (default: none)." };
        var platformKeepAlive = new Option<string?>("--platform-keep-alive") { Description = "The keep-alive the simulated platform really applies, if shorter than the one the policies are told (shows the closed loop)." };
        var synthetic = new Option<int?>("--synthetic-functions") { Description = "Instead of --trace: a synthetic trace of this many functions." };
        var days = new Option<int>("--days") { Description = "Days of the synthetic trace.", DefaultValueFactory = _ => 7 };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic trace.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var chart = new Option<string?>("--chart") { Description = "Write an SVG chart: cold-start rate against pings per function-day and against warm minutes." };

        var command = new Command("simulate", "Replay an invocation trace against warm-up policies and a platform model; compare cold starts, pings and warm minutes.")
        {
            traces, policies, keepAlive, margin, fixedInterval, budget, platformKeepAlive, synthetic, days, seed, json, chart,
        };
        command.SetAction(result =>
        {
            SimulationOptions options;
            string[] names;
            try
            {
                var k = WarmUpArguments.ParseDuration("--keep-alive", result.GetValue(keepAlive)!);
                var m = result.GetValue(margin) is { } given ? WarmUpArguments.ParseDuration("--margin", given) : DefaultMargin(k);
                var settings = new PolicySettings(k, m, WarmUpArguments.ParseDuration("--fixed-interval", result.GetValue(fixedInterval)!));
                var platform = result.GetValue(platformKeepAlive) is { } p ? WarmUpArguments.ParseDuration("--platform-keep-alive", p) : (TimeSpan?)null;
                if (result.GetValue(budget) is < 1)
                {
                    return WarmUpArguments.Fail("--budget-per-hour must be at least 1.");
                }

                options = new SimulationOptions(settings, result.GetValue(budget), platform);
                names = result.GetValue(policies) is { Length: > 0 } chosen ? chosen : [.. WarmUpPolicies.Names];
                foreach (var name in names)
                {
                    _ = WarmUpPolicies.Create(name, settings); // validates the name and the settings before the long part
                }
            }
            catch (ArgumentException e)
            {
                return WarmUpArguments.Fail(e.Message);
            }

            InvocationTrace trace;
            try
            {
                trace = LoadTrace(result.GetValue(traces), result.GetValue(synthetic), result.GetValue(days), result.GetValue(seed));
            }
            catch (FileNotFoundException e)
            {
                return WarmUpArguments.Fail($"{e.Message} Give existing files with --trace, or --synthetic-functions N for a synthetic trace.");
            }
            catch (TraceFormatException e)
            {
                return WarmUpArguments.Fail($"{e.Message} Expected CSV lines 'function,timestamp' (ISO-8601 or unix seconds) or Azure Functions 2019 day files.");
            }
            catch (ArgumentException e)
            {
                return WarmUpArguments.Fail(e.Message);
            }

            var asJson = result.GetValue(json);
            var results = Run(trace, names, options, showProgress: !asJson && AnsiConsole.Profile.Capabilities.Interactive);
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(Report(trace, options, results), Json));
            }
            else
            {
                PrintTable(trace, options, results);
            }

            if (result.GetValue(chart) is { } chartPath)
            {
                try
                {
                    File.WriteAllText(chartPath, WarmUpChart.Svg(results, Title(trace, options)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return WarmUpArguments.Fail($"cannot write the chart '{chartPath}': {e.Message}");
                }
            }

            return 0;
        });
        return command;
    }

    // 30 s is right for minutes-long keep-alives; a 1-minute keep-alive would lose half its length to it.
    private static TimeSpan DefaultMargin(TimeSpan keepAlive)
    {
        var tenth = keepAlive / 10;
        return tenth < TimeSpan.FromSeconds(30) ? tenth : TimeSpan.FromSeconds(30);
    }

    private static InvocationTrace LoadTrace(string[]? files, int? synthetic, int days, int seed)
    {
        if (files is { Length: > 0 })
        {
            if (synthetic is not null)
            {
                throw new ArgumentException("Give either --trace or --synthetic-functions, not both.");
            }

            return TraceFiles.Read(files);
        }

        if (synthetic is not { } functions)
        {
            throw new ArgumentException("No trace: give --trace FILE... or --synthetic-functions N.");
        }

        if (functions < 1 || days < 1)
        {
            throw new ArgumentException("--synthetic-functions and --days must be at least 1.");
        }

        return SyntheticTrace.Generate(functions, days, seed);
    }

    private static List<PolicyResult> Run(InvocationTrace trace, string[] names, SimulationOptions options, bool showProgress)
    {
        if (!showProgress)
        {
            return [.. names.Select(name => Simulator.Run(trace, name, options))];
        }

        var results = new List<PolicyResult>();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var tasks = names.Select(name => context.AddTask(name, maxValue: trace.Functions.Count)).ToList();
                for (var i = 0; i < names.Length; i++)
                {
                    var task = tasks[i];
                    results.Add(Simulator.Run(trace, names[i], options, done => task.Value = done));
                    task.Value = trace.Functions.Count;
                }
            });
        return results;
    }

    private static object Report(InvocationTrace trace, SimulationOptions options, List<PolicyResult> results) => new
    {
        trace = new { functions = trace.Functions.Count, invocations = trace.Invocations, days = trace.Days, start = trace.Start, end = trace.End },
        settings = new
        {
            keepAliveSeconds = options.Settings.KeepAlive.TotalSeconds,
            marginSeconds = options.Settings.Margin.TotalSeconds,
            fixedIntervalSeconds = options.Settings.FixedInterval.TotalSeconds,
            budgetPerHour = options.BudgetPerHour,
            platformKeepAliveSeconds = (options.PlatformKeepAlive ?? options.Settings.KeepAlive).TotalSeconds,
        },
        policies = results,
    };

    private static string Title(InvocationTrace trace, SimulationOptions options) => string.Create(
        CultureInfo.InvariantCulture,
        $"{trace.Functions.Count:N0} functions, {trace.Days:0.##} days, keep-alive {Format(options.Settings.KeepAlive)}");

    private static void PrintTable(InvocationTrace trace, SimulationOptions options, List<PolicyResult> results)
    {
        var c = CultureInfo.InvariantCulture;
        AnsiConsole.MarkupLineInterpolated(c, $"[bold]{Title(trace, options)}[/], {trace.Invocations:N0} invocations; margin {Format(options.Settings.Margin)}, fixed interval {Format(options.Settings.FixedInterval)}, budget {(options.BudgetPerHour is { } b ? b.ToString(c) + "/h" : "none")}");
        var table = new Table().AddColumn("");
        foreach (var r in results)
        {
            table.AddColumn(new TableColumn(r.Policy).RightAligned());
        }

        var none = results.FirstOrDefault(r => r.Policy == "none");
        var fixedResult = results.FirstOrDefault(r => r.Policy == "fixed");
        Row(table, results, "cold-start rate", r => Percent(r.ColdStartRate));
        Row(table, results, "cold starts", r => r.ColdStarts.ToString("N0", c));
        Row(table, results, "per function p50 / p90 / p99", r => $"{Percent(r.FunctionColdStartRateP50)} / {Percent(r.FunctionColdStartRateP90)} / {Percent(r.FunctionColdStartRateP99)}");
        Row(table, results, "pings", r => r.Pings.ToString("N0", c));
        Row(table, results, "pings per function-day", r => r.PingsPerFunctionDay.ToString("0.0", c));
        Row(table, results, "cold pings", r => r.ColdPings.ToString("N0", c));
        Row(table, results, "pings skipped by budget", r => r.PingsSkippedByBudget.ToString("N0", c));
        Row(table, results, "warm minutes per function-day", r => r.WarmMinutesPerFunctionDay.ToString("0.0", c));
        if (none is not null)
        {
            Row(table, results, "cold starts vs none", r => Ratio(r.ColdStarts, none.ColdStarts));
        }

        if (fixedResult is not null)
        {
            Row(table, results, "cold starts vs fixed", r => Ratio(r.ColdStarts, fixedResult.ColdStarts));
            Row(table, results, "pings vs fixed", r => Ratio(r.Pings, fixedResult.Pings));
            Row(table, results, "warm minutes vs fixed", r => Ratio(r.WarmInstanceMinutes, fixedResult.WarmInstanceMinutes));
        }

        AnsiConsole.Write(table);
    }

    private static void Row(Table table, List<PolicyResult> results, string label, Func<PolicyResult, string> cell) =>
        table.AddRow([label, .. results.Select(cell)]);

    private static string Percent(double share) => (share * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";

    private static string Ratio(double value, double baseline) =>
        baseline == 0 ? "-" : (value / baseline).ToString("0.000", CultureInfo.InvariantCulture);

    private static string Format(TimeSpan span) =>
        span.TotalSeconds % 60 == 0 ? span.TotalMinutes.ToString("0.##", CultureInfo.InvariantCulture) + "m" : span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
}
