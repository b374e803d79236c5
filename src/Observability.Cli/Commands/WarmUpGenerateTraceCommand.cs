using System.CommandLine;
using System.Globalization;
using Observability.WarmUp.Simulation;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>`obs warmup generate-trace`: writes a seeded synthetic trace as the simple CSV the simulator reads.</summary>
internal static class WarmUpGenerateTraceCommand
{
    public static Command Create()
    {
        var functions = new Option<int>("--functions") { Description = "How many functions.", DefaultValueFactory = _ => 1000 };
        var days = new Option<int>("--days") { Description = "How many days.", DefaultValueFactory = _ => 7 };
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed gives the same trace.", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--output", "-o") { Description = "CSV file to write (default: standard output)." };
        var command = new Command("generate-trace", "Write a synthetic invocation trace (timers, bursty HTTP, rare and frequent functions) as CSV: function,timestamp.")
        {
            functions, days, seed, output,
        };
        command.SetAction(result =>
        {
            if (result.GetValue(functions) < 1 || result.GetValue(days) < 1)
            {
                return WarmUpArguments.Fail("--functions and --days must be at least 1.");
            }

            var trace = SyntheticTrace.Generate(result.GetValue(functions), result.GetValue(days), result.GetValue(seed));
            if (result.GetValue(output) is not { } path)
            {
                CsvTraceWriter.Write(trace, Console.Out);
                return 0;
            }

            try
            {
                using var writer = new StreamWriter(path);
                CsvTraceWriter.Write(trace, writer);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return WarmUpArguments.Fail($"cannot write '{path}': {e.Message}");
            }

            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"Wrote {trace.Invocations:N0} invocations of {trace.Functions.Count} functions over {trace.Days:0.#} days to [blue]{path}[/].");
            return 0;
        });
        return command;
    }
}
