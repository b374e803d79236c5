using Observability.Testing;

namespace Observability.Dashboards.Tests;

/// <summary>The repository's dashboards/ folder.</summary>
internal static class DashboardFiles
{
    public static string Of(params string[] parts) => Path.Combine([RepositoryFiles.Root, "dashboards", .. parts]);

    public static string GrafanaDashboards => Of("grafana", "dashboards");

    public static string GrafanaDataSources => Of("grafana", "provisioning", "datasources");

    public static string GrafanaDashboardProviders => Of("grafana", "provisioning", "dashboards");

    public static string PrometheusRules => Of("prometheus", "rules");
}
