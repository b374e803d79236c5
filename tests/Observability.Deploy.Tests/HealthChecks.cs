using Observability.Deploy.Tests.Model;

namespace Observability.Deploy.Tests;

/// <summary>Every health request deploy/ makes: Kubernetes probes and Dockerfile HEALTHCHECKs, by program.</summary>
internal static class HealthChecks
{
    public sealed record Check(string Where, SuiteProgram Program, string Kind, string Path, int Port, bool Tls);

    public static IReadOnlyList<Check> All(ComposeFile compose, KubeManifests kube)
    {
        var checks = new List<Check>();
        foreach (var container in kube.Containers)
        {
            if (SuiteProgram.ForImage(container.Image) is not { } program)
            {
                continue;
            }

            checks.AddRange(container.HttpProbes.Select(p => new Check(container.Where, program, p.Kind, p.Path, container.ResolvePort(p.Port), p.Scheme == "HTTPS")));
        }

        foreach (var program in SuiteProgram.All)
        {
            var dockerfile = program.Dockerfile(compose);
            checks.AddRange(dockerfile.HealthPaths.Select(path => new Check(dockerfile.Path, program, "HEALTHCHECK", path, dockerfile.HealthPort?.Port ?? 0, Tls: false)));
        }

        return checks;
    }
}
