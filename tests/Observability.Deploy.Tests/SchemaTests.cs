using Observability.Deploy.Tests.Model;
using Observability.Testing;

namespace Observability.Deploy.Tests;

/// <summary>
/// The objects match the OpenAPI schemas of Kubernetes, Knative and the Prometheus Operator (npm kubernetes-models,
/// run by schema/validate.mjs): field types, enums and required fields. Unknown fields are not caught: the schemas
/// allow them.
/// </summary>
public sealed class SchemaTests
{
    private static readonly string Folder = Path.Combine(RepositoryFiles.Root, "tests", "Observability.Deploy.Tests", "schema");

    [Fact]
    public async Task Every_manifest_validates_against_the_Kubernetes_Knative_and_Prometheus_Operator_schemas()
    {
        // npm ci when node_modules is missing or older than the lock file (as the collector's build does for the web UI).
        var installed = new FileInfo(Path.Combine(Folder, "node_modules", ".package-lock.json"));
        if (!installed.Exists || installed.LastWriteTimeUtc < File.GetLastWriteTimeUtc(Path.Combine(Folder, "package-lock.json")))
        {
            var install = await ToolProcess.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], Folder, timeout: TimeSpan.FromMinutes(5));
            Assert.True(install.ExitCode == 0, install.ToString());
        }

        var manifests = new KubeManifests();
        var files = manifests.Objects.Select(o => o.File).Distinct().ToList();
        var result = await ToolProcess.RunAsync("node", ["validate.mjs", .. files], Folder, timeout: TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(manifests.Objects.Count, result.LinesWith(": valid").Count);
    }
}
