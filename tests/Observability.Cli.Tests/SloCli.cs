using System.Diagnostics;

namespace Observability.Cli.Tests;

/// <summary>Runs the built `obs` (copied beside the tests by the project reference) as a process.</summary>
internal static class SloCli
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

    /// <summary>Runs obs with <paramref name="arguments"/> in <paramref name="workingDirectory"/>; the collector settings of the test's environment are cleared, then <paramref name="environment"/> applied.</summary>
    public static async Task<CliResult> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "obs.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in new[] { "OBS_COLLECTOR_URL", "OBS_READ_KEY", "OBS_WRITE_KEY" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs another tool (promtool) to its end.</summary>
    public static async Task<CliResult> RunToolAsync(string tool, string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A scratch copy of dashboards/slo and dashboards/prometheus/rules, deleted on dispose.</summary>
    public static ScratchDashboards CopyDashboards() => new();
}

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

internal sealed class ScratchDashboards : IDisposable
{
    public ScratchDashboards()
    {
        Root = Directory.CreateTempSubdirectory("obs-slo-").FullName;
        Copy(Path.Combine(SloCli.RepositoryRoot, "dashboards", "slo"), Specs);
        Copy(Path.Combine(SloCli.RepositoryRoot, "dashboards", "prometheus", "rules"), Rules);
    }

    public string Root { get; }

    public string Specs => Path.Combine(Root, "slo");

    public string Rules => Path.Combine(Root, "rules");

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}
