using System.Globalization;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>Parsing and error reporting shared by the `obs warmup` commands.</summary>
internal static class WarmUpArguments
{
    /// <summary>Exit code for bad input (arguments, missing or malformed files).</summary>
    public const int BadInput = 2;

    /// <summary>A duration as <c>90s</c>, <c>10m</c>, <c>1.5h</c>, <c>1d</c>, <c>250ms</c>, or <c>hh:mm:ss</c>.</summary>
    public static TimeSpan ParseDuration(string option, string text)
    {
        var trimmed = text.Trim();
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];
        foreach (var (suffix, seconds) in units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(trimmed[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && value >= 0)
            {
                return TimeSpan.FromSeconds(value * seconds);
            }
        }

        if (trimmed.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span))
        {
            return span;
        }

        throw new ArgumentException($"{option}: '{text}' is not a duration; write it like 30s, 10m, 1.5h or 00:10:00.");
    }

    public static int Fail(string message)
    {
        var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        stderr.MarkupLineInterpolated($"[red]error:[/] {message}");
        return BadInput;
    }
}
