using System.Diagnostics;

namespace Observability.Cli.Tests.Analysis;

/// <summary>Runs the built `obs` (copied beside the tests by the project reference) as a real process.</summary>
internal static class ObsProcess
{
    /// <summary>Runs obs with <paramref name="arguments"/> in a scratch folder (no keys.json), without the collector settings of the test's environment.</summary>
    public static async Task<ObsResult> RunAsync(params string[] arguments)
    {
        var scratch = Directory.CreateTempSubdirectory("obs-cli-");
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = scratch.FullName };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "obs.dll"));
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            foreach (var name in new[] { "OBS_COLLECTOR_URL", "OBS_READ_KEY", "OBS_WRITE_KEY" })
            {
                start.Environment.Remove(name);
            }

            // Local times in the output are then UTC times, which the tests can write out.
            start.Environment["TZ"] = "UTC";
            using var process = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return new ObsResult(process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }
}

internal sealed record ObsResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The output's lines that contain every one of <paramref name="parts"/>.</summary>
    public IReadOnlyList<string> LinesWith(params string[] parts) =>
        [.. Stdout.Split('\n').Where(line => parts.All(p => line.Contains(p, StringComparison.Ordinal)))];

    /// <summary>A table row's cells, trimmed.</summary>
    public static IReadOnlyList<string> Cells(string row) => [.. row.Split('│').Select(cell => cell.Trim())];

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}
