using Observability.Collector.Configuration;
using Observability.Deploy.Tests.Model;

namespace Observability.Deploy.Tests;

/// <summary>Probes and HEALTHCHECKs ask the port the program serves its health routes on, with the right scheme.</summary>
public sealed class ProbeTests : IDisposable
{
    private readonly ComposeFile _compose = DeployTree.Compose();
    private readonly KubeManifests _kube = new();

    public void Dispose() => _kube.Secrets.Dispose();

    [Fact]
    public void Every_probe_asks_the_health_port_of_its_program_with_TLS_exactly_when_the_program_serves_it()
    {
        var problems = new List<string>();
        foreach (var container in _kube.Containers)
        {
            if (SuiteProgram.ForImage(container.Image) is not { } program)
            {
                continue;
            }

            var options = program.Read(container.EffectiveEnvironment(program.Dockerfile(_compose).Env, _kube.Secrets));
            var healthPort = program.Ports(options)[program.HealthPort];
            var tls = options is CollectorOptions { TlsCertificateFile: not null };
            var probes = container.HttpProbes.ToList();
            if (probes.Count == 0 && container.Owner.Root.Str("apiVersion")!.StartsWith("apps/", StringComparison.Ordinal))
            {
                problems.Add($"{container.Where}: no probes");
            }

            foreach (var (kind, path, port, scheme) in probes)
            {
                if (container.ResolvePort(port) != healthPort)
                {
                    problems.Add($"{container.Where}: {kind} {path} asks port {port} ({container.ResolvePort(port)}), but {program.Image} serves it on {healthPort}");
                }

                if (scheme == "HTTPS" != tls)
                {
                    problems.Add($"{container.Where}: {kind} uses {scheme}, but the program serves {(tls ? "TLS" : "plain HTTP")}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Each_Dockerfile_health_check_asks_the_health_port_through_the_variable_that_moves_it()
    {
        foreach (var program in SuiteProgram.All)
        {
            var dockerfile = program.Dockerfile(_compose);
            var (variable, port) = dockerfile.HealthPort ?? throw new Xunit.Sdk.XunitException($"{dockerfile.Path}: no HEALTHCHECK on 127.0.0.1:${{Variable:-port}}");
            var environment = _compose.ServiceWithImage(program.Image).Environment.Concat(dockerfile.Env).ToDictionary();
            var defaults = program.Ports(program.Read(environment));
            var moved = program.Ports(program.Read(environment.Append(KeyValuePair.Create(variable, "18999")).ToDictionary()));

            Assert.Equal(defaults[program.HealthPort], port);
            // The variable the check reads is the setting that moves the health port: set it, and the port follows.
            Assert.Equal(18999, moved[program.HealthPort]);
            Assert.NotEmpty(dockerfile.HealthPaths);
        }
    }
}
