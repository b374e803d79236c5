using System.ComponentModel;
using System.Diagnostics;

namespace Observability.Testing;

/// <summary>Runs a program to its end (obs, promtool, amtool…) and keeps its exit code and output.</summary>
public static class ToolProcess
{
    /// <summary>Runs <paramref name="tool"/> to its end; <paramref name="environment"/> sets variables (a null value removes one).</summary>
    public static async Task<ToolResult> RunAsync(
        string tool,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? string.Empty };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} could not be started ({e.Message}): scripts/ensure-deps.sh installs what the tests need", e);
        }

        using (process)
        {
            using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
            var stdout = process.StandardOutput.ReadToEndAsync(cancel.Token);
            var stderr = process.StandardError.ReadToEndAsync(cancel.Token);
            await process.WaitForExitAsync(cancel.Token);
            return new ToolResult(process.ExitCode, await stdout, await stderr);
        }
    }
}

public sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The output's lines that contain every one of <paramref name="parts"/>.</summary>
    public IReadOnlyList<string> LinesWith(params string[] parts) =>
        [.. Stdout.Split('\n').Where(line => parts.All(p => line.Contains(p, StringComparison.Ordinal)))];

    /// <summary>A table row's cells, trimmed.</summary>
    public static IReadOnlyList<string> Cells(string row) => [.. row.Split('│').Select(cell => cell.Trim())];

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}
