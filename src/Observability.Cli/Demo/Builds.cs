using System.Diagnostics;
using Observability.Cli.Suite;

namespace Observability.Cli.Demo;

/// <summary>
/// What the demo and `obs attach` run, built when missing or older than its sources: obs-sidecar (published
/// natively compiled, as it ships, into artifacts/obs-sidecar) and the .NET sample functions (Release builds). No
/// build server is left running after them (--disable-build-servers).
/// </summary>
internal static class Builds
{
    private static readonly string[] SourcePatterns = ["*.cs", "*.csproj", "*.proto", "*.props", "*.targets"];

    /// <summary>obs-sidecar: OBS_SIDECAR when set, else artifacts/obs-sidecar/obs-sidecar, published first when stale.</summary>
    public static async Task<string> SidecarAsync(CancellationToken ct)
    {
        if (Environment.GetEnvironmentVariable("OBS_SIDECAR") is { Length: > 0 } given)
        {
            return File.Exists(given) ? given : throw new InvalidOperationException($"OBS_SIDECAR={given} does not exist: unset it, or publish the sidecar there.");
        }

        var output = Repository.PathOf("artifacts", "obs-sidecar");
        var binary = Path.Combine(output, "obs-sidecar");
        if (IsStale(binary, Repository.PathOf("agents")))
        {
            await StartupSteps.Step("Publishing obs-sidecar (Native AOT, a few minutes the first time)", () => RunDotnetAsync(
                ["publish", Repository.PathOf("agents", "Observability.Sidecar.Cli"), "-c", "Release", "-r", "linux-x64", "-o", output, "-nologo", "-clp:ErrorsOnly", "--disable-build-servers"], ct));
        }

        return binary;
    }

    /// <summary>A .NET sample's dll (samples/NAME/bin/Release/net10.0/NAME.dll), built first when stale.</summary>
    public static async Task<string> SampleAsync(string name, CancellationToken ct)
    {
        var project = Repository.PathOf("samples", name);
        var dll = Path.Combine(project, "bin", "Release", "net10.0", name + ".dll");
        if (IsStale(dll, project))
        {
            await StartupSteps.Step($"Building samples/{name}", () => RunDotnetAsync(["build", project, "-c", "Release", "-nologo", "-clp:ErrorsOnly", "--disable-build-servers"], ct));
        }

        return dll;
    }

    private static bool IsStale(string output, string sources)
    {
        if (!File.Exists(output))
        {
            return true;
        }

        var built = File.GetLastWriteTimeUtc(output);
        return SourcePatterns
            .SelectMany(pattern => Directory.EnumerateFiles(sources, pattern, SearchOption.AllDirectories))
            .Where(file => !file.Contains("/bin/", StringComparison.Ordinal) && !file.Contains("/obj/", StringComparison.Ordinal))
            .Any(file => File.GetLastWriteTimeUtc(file) > built);
    }

    private static async Task RunDotnetAsync(IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C during a build: the build goes too, with its compiler servers' children.
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} failed (exit {process.ExitCode}):\n{await stdout}{await stderr}");
        }
    }
}
