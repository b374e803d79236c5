using Observability.Deploy.Tests.Model;

namespace Observability.Deploy.Tests;

/// <summary>
/// The environment, ports and images deploy/ gives each program agree with what the program reads: its own options
/// reader (CollectorApp.ReadOptions, WarmUpScheduler.ReadOptions, SidecarApp.ReadOptions) is fed the environment a
/// container would get (the image's ENV, then the manifest's variables, Secrets from their committed examples).
/// </summary>
public sealed class ConfigurationAgreementTests : IDisposable
{
    private readonly ComposeFile _compose = DeployTree.Compose();
    private readonly KubeManifests _kube = new();

    /// <summary>The sidecar's proxy port, as <see cref="SuiteProgram.Sidecar"/> names it.</summary>
    private const string TrafficPort = "proxy";

    public void Dispose() => _kube.Secrets.Dispose();

    /// <summary>Every container of one of the suite's images, anywhere in deploy/, with the environment it runs with.</summary>
    private IEnumerable<(string Where, SuiteProgram Program, IReadOnlyDictionary<string, string> Environment, IReadOnlySet<string> ExpansionOnly, IReadOnlyDictionary<string, int> DeclaredPorts)> SuiteContainers()
    {
        foreach (var program in SuiteProgram.All)
        {
            var image = program.Dockerfile(_compose);
            var service = _compose.ServiceWithImage(program.Image);
            // A container that shares another service's network publishes its ports there.
            var published = service.NetworkMode is { } mode && mode.StartsWith("service:", StringComparison.Ordinal) ? _compose.Services[mode["service:".Length..]].Ports : service.Ports;
            yield return ($"docker-compose.yml: service {service.Name}", program,
                new Dictionary<string, string>(image.Env.Concat(service.Environment).GroupBy(kv => kv.Key).Select(g => g.Last()), StringComparer.Ordinal),
                new HashSet<string>(StringComparer.Ordinal),
                published.Select((p, i) => (p, i)).ToDictionary(x => $"published {x.p.Host}:{x.p.Container}", x => x.p.Container));
        }

        foreach (var container in _kube.Containers)
        {
            if (SuiteProgram.ForImage(container.Image) is { } program)
            {
                // Knative lets one container declare one port, named for its protocol (http1, h2c): the traffic port.
                var knative = container.Owner.Root.Str("apiVersion")!.StartsWith("serving.knative.dev/", StringComparison.Ordinal);
                var ports = knative ? container.Ports.ToDictionary(p => p.Key is "http1" or "h2c" ? TrafficPort : p.Key, p => p.Value, StringComparer.Ordinal) : container.Ports;
                yield return (container.Where, program, container.EffectiveEnvironment(program.Dockerfile(_compose).Env, _kube.Secrets), container.ExpansionOnly, ports);
            }
        }
    }

    [Fact]
    public void Every_environment_variable_set_for_a_suite_program_is_one_it_reads()
    {
        var unread = SuiteContainers()
            .SelectMany(c => c.Environment.Keys
                .Where(name => !c.ExpansionOnly.Contains(name) && !c.Program.Reads(name, c.Environment))
                .Select(name => $"{c.Where}: {name} ({c.Program.Image} does not read it)"))
            .ToList();

        Assert.True(unread.Count == 0, string.Join('\n', unread));
        Assert.All(SuiteProgram.All, p => Assert.Contains(SuiteContainers(), c => c.Program == p && !c.Where.StartsWith("docker-compose", StringComparison.Ordinal)));
    }

    [Fact]
    public void Every_environment_variable_set_for_the_sample_function_appears_in_its_source()
    {
        var source = string.Join('\n', Directory.GetFiles(DeployTree.SampleSources, "*.cs").Select(File.ReadAllText));
        var dockerfile = Dockerfile.Load(Path.Combine(Observability.Testing.RepositoryFiles.Root, _compose.ServiceWithImage(DeployTree.SampleImage).Dockerfile!));
        var names = dockerfile.Env.Keys.Select(n => ("Dockerfile", n))
            .Concat(_compose.ServiceWithImage(DeployTree.SampleImage).Environment.Keys.Select(n => ("docker-compose.yml", n)))
            .Concat(_kube.Containers.Where(c => c.Image == DeployTree.SampleImage).SelectMany(c => c.Env.Select(v => (c.Where, v.Str("name")!))))
            .ToList();

        Assert.NotEmpty(names);
        Assert.All(names, n => Assert.True(source.Contains($"\"{n.Item2}\"", StringComparison.Ordinal), $"{n.Item1}: {n.Item2} is not read by samples/HelloFunction"));
    }

    [Fact]
    public void The_options_a_manifest_gives_a_program_are_valid_and_give_the_ports_it_declares()
    {
        var problems = new List<string>();
        foreach (var (where, program, environment, _, declared) in SuiteContainers())
        {
            var ports = program.Ports(program.Read(environment));
            foreach (var (name, port) in declared)
            {
                // Kubernetes ports are named as the program's ports are; Compose publishes numbers only.
                var expected = name.StartsWith("published ", StringComparison.Ordinal) ? ports.Values.Contains(port) : ports.TryGetValue(name, out var p) && p == port;
                if (!expected)
                {
                    problems.Add($"{where}: port {name} = {port}, but {program.Image} listens on {string.Join(", ", ports.Select(kv => $"{kv.Key} {kv.Value}"))}");
                }
            }

            if (!where.StartsWith("docker-compose", StringComparison.Ordinal) && !declared.ContainsKey(TrafficPort))
            {
                problems.AddRange(ports.Keys.Except(declared.Keys).Select(missing => $"{where}: declares no port {missing} ({ports[missing]})"));
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Each_Dockerfile_exposes_the_ports_of_its_programs_defaults()
    {
        foreach (var program in SuiteProgram.All)
        {
            var dockerfile = program.Dockerfile(_compose);
            // The defaults: the image's own ENV plus only the settings a program cannot start without (from Compose).
            var environment = new Dictionary<string, string>(_compose.ServiceWithImage(program.Image).Environment.Where(kv => !kv.Key.Contains("Port", StringComparison.Ordinal)).Concat(dockerfile.Env), StringComparer.Ordinal);
            var ports = program.Ports(program.Read(environment));

            Assert.Equal(ports.Values.Order(), dockerfile.Exposed.Order());
        }
    }

    [Fact]
    public void Images_are_the_contract_names_and_each_is_built_by_a_Dockerfile_in_deploy()
    {
        string[] ours = [.. SuiteProgram.All.Select(p => p.Image), DeployTree.SampleImage];
        var thirdParty = new[] { "postgres", "prometheus", "alertmanager", "grafana" };
        var used = _kube.Containers.Select(c => (Where: c.Where, Image: c.Image))
            .Concat(_compose.Services.Values.Select(s => (Where: $"docker-compose.yml: service {s.Name}", Image: s.Image!.Split('/')[^1].Split(':')[0])))
            .ToList();

        Assert.All(used, u => Assert.True(ours.Contains(u.Image) || thirdParty.Contains(u.Image), $"{u.Where}: image {u.Image} is neither the suite's nor a known third party's"));
        Assert.All(ours, image =>
        {
            var service = _compose.ServiceWithImage(image);
            Assert.True(File.Exists(Path.Combine(Observability.Testing.RepositoryFiles.Root, service.Dockerfile!)), $"{image}: {service.Dockerfile} does not exist");
        });
        var retagged = _kube.Kustomization.Maps("images").Select(i => i.Str("name")).ToHashSet(StringComparer.Ordinal);
        Assert.All(_kube.Containers.Where(c => ours.Contains(c.Image) && c.Owner.File.StartsWith(KubeManifests.Directory, StringComparison.Ordinal)), c => Assert.Contains(c.Image, retagged));
    }
}
