using System.Globalization;
using System.Text.RegularExpressions;
using Observability.Deploy.Tests.Model;
using Observability.Testing;

namespace Observability.Deploy.Tests;

/// <summary>deploy/'s Prometheus: loads in the real promtool with the suite's rules, and scrapes what the rules expect.</summary>
public sealed partial class PrometheusTests : IDisposable
{
    private readonly ComposeFile _compose = DeployTree.Compose();
    private readonly KubeManifests _kube = new();

    public void Dispose() => _kube.Secrets.Dispose();

    private ComposeService PrometheusService => _compose.Services.Values.Single(s => s.Image!.Contains("prometheus", StringComparison.Ordinal));

    /// <summary>The jobs the suite's rules select by name (job="...").</summary>
    private static HashSet<string> RuleJobs =>
        Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "dashboards", "prometheus", "rules"), "*.yml")
            .SelectMany(f => JobPattern().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

    [Fact]
    public async Task The_compose_Prometheus_configuration_loads_in_promtool_with_every_rule_file_of_the_suite()
    {
        // The container's files, laid out here: each bind mount's target path stands for its source, each secret
        // for a file with the example value.
        var work = Directory.CreateTempSubdirectory("obs-deploy-prometheus");
        try
        {
            var mounts = PrometheusService.Volumes
                .Where(v => v.Source.StartsWith('.'))
                .ToDictionary(v => v.Target, v => Path.GetFullPath(Path.Combine(DeployTree.Root, v.Source)), StringComparer.Ordinal);
            var secrets = _compose.Root.Map("secrets")!;
            foreach (var name in PrometheusService.Secrets)
            {
                var file = Path.Combine(work.FullName, name);
                await File.WriteAllTextAsync(file, DeployTree.ExampleDotEnv[((Dictionary<object, object?>)secrets[name]!).Str("environment")!]);
                mounts[$"/run/secrets/{name}"] = file;
            }

            var configTarget = PrometheusService.Volumes.Single(v => v.Target.EndsWith("prometheus.yml", StringComparison.Ordinal)).Target;
            var config = await File.ReadAllTextAsync(mounts[configTarget]);
            foreach (var (target, source) in mounts.OrderByDescending(m => m.Key.Length))
            {
                config = config.Replace(target, source, StringComparison.Ordinal);
            }

            var configFile = Path.Combine(work.FullName, "prometheus.yml");
            await File.WriteAllTextAsync(configFile, config);
            var result = await ToolProcess.RunAsync("promtool", ["check", "config", configFile], timeout: TimeSpan.FromMinutes(2));

            Assert.True(result.ExitCode == 0, result.ToString());
            var ruleFiles = Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "dashboards", "prometheus", "rules"), "*.yml").Length;
            Assert.Contains($"SUCCESS: {ruleFiles} rule files found", result.Stdout + result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public void Compose_Prometheus_scrapes_every_job_the_rules_use_on_the_port_its_program_serves_metrics_on()
    {
        var config = Yaml.Load(Path.Combine(DeployTree.Root, "prometheus", "prometheus.yml"));
        var jobs = config.Maps("scrape_configs").ToDictionary(j => j.Str("job_name")!, StringComparer.Ordinal);
        var metricsKeyVariable = ((Dictionary<object, object?>)_compose.Root.Map("secrets")!.Values.Single()!).Str("environment");

        Assert.Subset(jobs.Keys.ToHashSet(StringComparer.Ordinal), RuleJobs);
        foreach (var program in SuiteProgram.All)
        {
            var service = _compose.ServiceWithImage(program.Image);
            // A sidecar sharing its function's network is reached at the function's service name.
            var host = service.NetworkMode is { } mode && mode.StartsWith("service:", StringComparison.Ordinal) ? mode["service:".Length..] : service.Name;
            var options = program.Read(program.Dockerfile(_compose).Env.Concat(service.Environment).ToDictionary());
            var job = jobs.Values.Single(j => j.Maps("static_configs").SelectMany(s => s.Strings("targets")).Any(t => t.StartsWith(host + ":", StringComparison.Ordinal)));
            var target = job.Maps("static_configs").SelectMany(s => s.Strings("targets")).Single();

            Assert.Equal(program.Image, job.Str("job_name"));
            Assert.Equal(program.Ports(options)[program.HealthPort], int.Parse(target.Split(':')[1], CultureInfo.InvariantCulture));
            if (job.Map("authorization") is { } authorization)
            {
                // The key Prometheus reads is the metrics key the program was given.
                Assert.Equal("OBS_METRICS_KEY", service.Environment.Single(kv => kv.Value == DeployTree.ExampleDotEnv[metricsKeyVariable!]).Key);
                Assert.StartsWith("/run/secrets/", authorization.Str("credentials_file"), StringComparison.Ordinal);
            }
        }

        var alertmanager = config.At("alerting")!.Maps("alertmanagers").SelectMany(a => a.Maps("static_configs")).SelectMany(s => s.Strings("targets")).Single();
        Assert.Contains(alertmanager.Split(':')[0], _compose.Services.Keys);
    }

    [Fact]
    public void The_Kubernetes_monitors_give_the_scraped_programs_the_job_names_the_rules_use()
    {
        var services = _kube.Objects.Where(o => o.Kind == "Service").ToList();
        var jobs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var monitor in _kube.Objects.Where(o => o.Kind == "ServiceMonitor"))
        {
            var selector = monitor.Root.At("spec.selector.matchLabels")!;
            // The Prometheus Operator names a ServiceMonitor's job after the Service.
            jobs.UnionWith(services.Where(s => selector.All(l => s.Root.At("metadata.labels")?.Str((string)l.Key) == (string?)l.Value)).Select(s => s.Name));
        }

        foreach (var monitor in _kube.Objects.Where(o => o.Kind == "PodMonitor"))
        {
            jobs.UnionWith(monitor.Root.At("spec")!.Maps("podMetricsEndpoints").SelectMany(e => e.Maps("relabelings")).Where(r => r.Str("targetLabel") == "job").Select(r => r.Str("replacement")!));
        }

        Assert.Subset(jobs, RuleJobs);
    }

    [GeneratedRegex(@"job=""([^""]+)""")]
    private static partial Regex JobPattern();
}
