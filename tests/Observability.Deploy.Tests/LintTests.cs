using Observability.Deploy.Tests.Model;
using Observability.Testing;

namespace Observability.Deploy.Tests;

/// <summary>deploy/'s YAML is well-formed, lint-clean, and every manifest a kustomization lists is there.</summary>
public sealed class LintTests
{
    [Fact]
    public async Task Every_yaml_file_under_deploy_passes_yamllint()
    {
        var result = await ToolProcess.RunAsync("yamllint", ["--strict", "-f", "parsable", "-c", "deploy/.yamllint", "deploy/"], RepositoryFiles.Root, timeout: TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public void Every_manifest_parses_into_objects_with_a_kind_and_a_name()
    {
        var manifests = new KubeManifests();

        Assert.NotEmpty(manifests.Objects);
        Assert.All(manifests.Objects, o =>
        {
            Assert.False(string.IsNullOrEmpty(o.Root.Str("apiVersion")), $"{o.File}: an object without apiVersion");
            Assert.False(string.IsNullOrEmpty(o.Kind), $"{o.File}: an object without kind");
            Assert.False(string.IsNullOrEmpty(o.Name), $"{o.File}: a {o.Kind} without metadata.name");
        });
        Assert.NotEmpty(DeployTree.Compose().Services);
    }

    [Fact]
    public void Every_manifest_under_deploy_kubernetes_is_listed_by_a_kustomization()
    {
        var listed = new KubeManifests().Objects.Select(o => Path.GetFullPath(o.File)).ToHashSet(StringComparer.Ordinal);
        var files = Directory.GetFiles(KubeManifests.Directory, "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .Select(Path.GetFullPath);

        Assert.All(files, f => Assert.True(listed.Contains(f), $"{f} is in no kustomization.yaml: kubectl apply -k would leave it out"));
    }
}
