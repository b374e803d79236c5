using Observability.Testing;

namespace Observability.Dashboards.Tests;

/// <summary>The Prometheus tools (promtool, amtool) run from the repository's root.</summary>
internal static class RulesTools
{
    public static Task<ToolResult> RunAsync(string tool, params string[] arguments) =>
        ToolProcess.RunAsync(tool, arguments, RepositoryFiles.Root, timeout: TimeSpan.FromMinutes(2));
}
