using Observability.Testing;

namespace Observability.Cli.Tests;

/// <summary>A scratch copy of dashboards/slo and dashboards/prometheus/rules, deleted on dispose.</summary>
internal sealed class ScratchDashboards : IDisposable
{
    public ScratchDashboards()
    {
        Root = Directory.CreateTempSubdirectory("obs-slo-").FullName;
        Copy(Path.Combine(RepositoryFiles.Root, "dashboards", "slo"), Specs);
        Copy(Path.Combine(RepositoryFiles.Root, "dashboards", "prometheus", "rules"), Rules);
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
