using Observability.Testing;

namespace Observability.Cli.Tests;

/// <summary>Runs the built `obs` (obs.dll, copied beside the tests by the project reference) as a real process.</summary>
internal static class ObsCli
{
    // The test machine's own collector settings must not leak into a test; local times print as UTC.
    private static readonly Dictionary<string, string?> Clean = new()
    {
        ["OBS_COLLECTOR_URL"] = null,
        ["OBS_READ_KEY"] = null,
        ["OBS_WRITE_KEY"] = null,
        ["TZ"] = "UTC",
    };

    /// <summary>Runs obs in a scratch folder of its own (no keys.json there), deleted afterwards.</summary>
    public static async Task<ToolResult> RunAsync(params string[] arguments)
    {
        var scratch = Directory.CreateTempSubdirectory("obs-cli-");
        try
        {
            return await RunInAsync(scratch.FullName, null, arguments);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>Runs obs in <paramref name="workingDirectory"/>, with <paramref name="environment"/> over a clean one.</summary>
    public static Task<ToolResult> RunInAsync(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var variables = new Dictionary<string, string?>(Clean);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            variables[name] = value;
        }

        return ToolProcess.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "obs.dll"), .. arguments], workingDirectory, variables);
    }
}
