namespace Observability.Dashboards.Tests.Grafana;

/// <summary>Paths in the repository the tests run from.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string GrafanaDashboards => Path.Combine(Root, "dashboards", "grafana", "dashboards");

    public static string GrafanaDataSources => Path.Combine(Root, "dashboards", "grafana", "provisioning", "datasources");

    public static string GrafanaDashboardProviders => Path.Combine(Root, "dashboards", "grafana", "provisioning", "dashboards");

    public static string PrometheusRules => Path.Combine(Root, "dashboards", "prometheus", "rules");

    /// <summary>A file built beside the tests, in the same configuration (bin/Release or bin/Debug).</summary>
    public static string Built(string folder, string project, string file)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        return Path.Combine(Root, folder, project, "bin", configuration, "net10.0", file);
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Observability.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Observability.sln not found above the test folder");
    }
}
