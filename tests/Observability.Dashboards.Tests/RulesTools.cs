using System.Diagnostics;

namespace Observability.Dashboards.Tests;

/// <summary>The repository's dashboards/ folder and the Prometheus tools (promtool, amtool) run as processes.</summary>
internal static class RulesTools
{
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Observability.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Observability.sln not found above the test folder");
        }
    }

    public static string Dashboards(params string[] parts) => Path.Combine([RepositoryRoot, "dashboards", .. parts]);

    /// <summary>Runs a tool to its end (2 minutes at most) and returns its exit code and output.</summary>
    public static async Task<ToolResult> RunAsync(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} could not be started ({e.Message}): install Debian's prometheus and prometheus-alertmanager packages (scripts/ensure-deps.sh)", e);
        }

        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return new ToolResult(process.ExitCode, await stdout, await stderr);
        }
    }
}

internal sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n{Stdout}\n{Stderr}";
}
