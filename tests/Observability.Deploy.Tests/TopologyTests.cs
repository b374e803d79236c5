using System.Globalization;
using Observability.Collector.Configuration;
using Observability.Deploy.Tests.Model;
using Observability.Sidecar.Configuration;

namespace Observability.Deploy.Tests;

/// <summary>How the pieces are wired: the sidecar in front of the function, sidecars to the collector, TLS, replicas, users.</summary>
public sealed class TopologyTests : IDisposable
{
    private readonly ComposeFile _compose = DeployTree.Compose();
    private readonly KubeManifests _kube = new();

    public void Dispose() => _kube.Secrets.Dispose();

    private SidecarOptions SidecarOptionsOf(KubeContainer sidecar) =>
        (SidecarOptions)SuiteProgram.Sidecar.Read(sidecar.EffectiveEnvironment(SuiteProgram.Sidecar.Dockerfile(_compose).Env, _kube.Secrets));

    private CollectorOptions KubeCollectorOptions()
    {
        var collector = _kube.Containers.Single(c => c.Image == SuiteProgram.Collector.Image);
        return (CollectorOptions)SuiteProgram.Collector.Read(collector.EffectiveEnvironment(SuiteProgram.Collector.Dockerfile(_compose).Env, _kube.Secrets));
    }

    [Fact]
    public void The_function_pod_runs_the_sidecar_as_a_native_sidecar_in_front_of_the_function()
    {
        var deployment = _kube.Objects.Single(o => o.Kind == "Deployment" && o.Containers.Any(c => c.Image == DeployTree.SampleImage));
        var sidecar = deployment.Containers.Single(c => c.Image == SuiteProgram.Sidecar.Image);
        var function = deployment.Containers.Single(c => c.Image == DeployTree.SampleImage);
        var options = SidecarOptionsOf(sidecar);

        // Native sidecar: an init container that keeps running, started before the function.
        Assert.True(sidecar.IsInit);
        Assert.Equal("Always", sidecar.Spec.Str("restartPolicy"));
        // Attach mode finds the function's process through /proc, and its runtime's socket in the shared /tmp.
        Assert.Equal("true", deployment.PodSpec!.Str("shareProcessNamespace"));
        Assert.Equal(sidecar.Mounts["/tmp"], function.Mounts["/tmp"]);
        Assert.NotNull(deployment.PodSpec!.Maps("volumes").Single(v => v.Str("name") == sidecar.Mounts["/tmp"]).Map("emptyDir"));
        Assert.Equal(sidecar.Security("runAsUser"), function.Security("runAsUser"));
        // The function listens where the sidecar forwards to, and the Service sends clients to the sidecar's proxy port.
        Assert.Equal(options.UpstreamPort.ToString(CultureInfo.InvariantCulture), function.Env.Single(v => v.Str("name") == "PORT").Str("value"));
        Assert.Empty(function.Ports);
        var service = _kube.Single("Service", deployment.Name);
        Assert.All(service.Root.At("spec")!.Maps("ports"), p => Assert.Equal(options.Port, sidecar.ResolvePort(p.Str("targetPort")!)));
        // The advertised warm-up URL is that Service.
        Assert.Equal(service.Name, options.AdvertiseUrl!.Host);
        Assert.Contains(service.Root.At("spec")!.Maps("ports"), p => p.Str("port") == options.AdvertiseUrl.Port.ToString(CultureInfo.InvariantCulture));
        // Scraped by the pod annotations on the admin port.
        Assert.Equal(options.AdminPort.ToString(CultureInfo.InvariantCulture), deployment.PodMetadata!.Map("annotations")!.Str("prometheus.io/port"));
    }

    [Fact]
    public void The_compose_sidecar_shares_the_functions_network_processes_and_tmp()
    {
        var function = _compose.ServiceWithImage(DeployTree.SampleImage);
        var sidecar = _compose.ServiceWithImage(SuiteProgram.Sidecar.Image);
        var options = (SidecarOptions)SuiteProgram.Sidecar.Read(SuiteProgram.Sidecar.Dockerfile(_compose).Env.Concat(sidecar.Environment).ToDictionary());

        Assert.Equal($"service:{function.Name}", sidecar.NetworkMode);
        Assert.Equal($"service:{function.Name}", sidecar.Pid);
        Assert.Equal(function.Volumes.Single(v => v.Target == "/tmp").Source, sidecar.Volumes.Single(v => v.Target == "/tmp").Source);
        Assert.Equal(options.UpstreamPort.ToString(CultureInfo.InvariantCulture), function.Environment["PORT"]);
        Assert.Equal([options.Port], function.Ports.Select(p => p.Container));
        Assert.Equal(new Uri($"http://{function.Name}:{options.Port}/"), options.AdvertiseUrl);
    }

    [Fact]
    public void The_knative_service_declares_a_port_on_the_sidecar_only()
    {
        var service = _kube.Objects.Single(o => o.Kind == "Service" && o.Root.Str("apiVersion")!.StartsWith("serving.knative.dev/", StringComparison.Ordinal));
        var withPorts = service.Containers.Where(c => c.Ports.Count > 0).ToList();
        var sidecar = Assert.Single(withPorts);
        var options = SidecarOptionsOf(sidecar);

        Assert.Equal(SuiteProgram.Sidecar.Image, sidecar.Image);
        Assert.Equal([options.Port], sidecar.Ports.Values);
        var function = service.Containers.Single(c => c.Image == DeployTree.SampleImage);
        Assert.Equal(options.UpstreamPort.ToString(CultureInfo.InvariantCulture), function.Env.Single(v => v.Str("name") == "PORT").Str("value"));
    }

    [Fact]
    public void Sidecars_export_to_the_collectors_OTLP_HTTP_port_with_the_write_key_and_trust_its_TLS()
    {
        var collector = KubeCollectorOptions();
        var collectorService = _kube.Single("Service", "obs-collector");
        var collectorContainer = _kube.Containers.Single(c => c.Image == SuiteProgram.Collector.Image);
        var writeKey = _kube.Secrets.Value("obs-keys", "write-key");
        foreach (var sidecar in _kube.Containers.Where(c => c.Image == SuiteProgram.Sidecar.Image))
        {
            var options = SidecarOptionsOf(sidecar);
            var endpoint = options.OtlpEndpoint!;

            Assert.Equal(collector.TlsCertificateFile is null ? "http" : "https", endpoint.Scheme);
            Assert.Equal(collectorService.Name, endpoint.Host.Split('.')[0]);
            var servicePort = collectorService.Root.At("spec")!.Maps("ports").Single(p => p.Str("port") == endpoint.Port.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(collector.OtlpHttpPort, collectorContainer.ResolvePort(servicePort.Str("targetPort")!));
            Assert.Equal($"Bearer {writeKey}", options.EffectiveOtlpHeaders.Single(h => h.Key == "Authorization").Value);
            // The CA file is the one that signed the collector's certificate (the same TLS Secret).
            Assert.NotNull(options.OtlpCertificate);
        }

        var compose = _compose.ServiceWithImage(SuiteProgram.Sidecar.Image);
        var composeCollector = _compose.ServiceWithImage(SuiteProgram.Collector.Image);
        var composeOptions = (SidecarOptions)SuiteProgram.Sidecar.Read(compose.Environment);
        var composeCollectorOptions = (CollectorOptions)SuiteProgram.Collector.Read(composeCollector.Environment);
        Assert.Equal(new Uri($"http://{composeCollector.Name}:{composeCollectorOptions.OtlpHttpPort}"), composeOptions.OtlpEndpoint);
        Assert.Equal($"Bearer {DeployTree.ExampleDotEnv["OBS_WRITE_KEY"]}", composeOptions.EffectiveOtlpHeaders.Single(h => h.Key == "Authorization").Value);
    }

    [Fact]
    public void The_collector_runs_more_than_one_replica_and_serves_TLS_from_the_mounted_Secret()
    {
        var deployment = _kube.Objects.Single(o => o.Kind == "Deployment" && o.Containers.Any(c => c.Image == SuiteProgram.Collector.Image));
        var options = KubeCollectorOptions();

        Assert.True(int.Parse(deployment.Root.At("spec")!.Str("replicas")!, CultureInfo.InvariantCulture) >= 2);
        // Both files resolved to the TLS Secret's items (EffectiveEnvironment throws for a path outside a Secret).
        Assert.True(File.Exists(options.TlsCertificateFile), options.TlsCertificateFile);
        Assert.True(File.Exists(options.TlsKeyFile), options.TlsKeyFile);
    }

    /// <summary>The Dockerfile of one of the suite's images (the programs and the sample function), else null.</summary>
    private Dockerfile? ImageDockerfile(string image) =>
        _compose.Services.Values.FirstOrDefault(s => s.Image == image && s.Dockerfile is not null) is { } service
            ? Dockerfile.Load(Path.Combine(Observability.Testing.RepositoryFiles.Root, service.Dockerfile!))
            : null;

    [Fact]
    public void Every_suite_container_runs_as_its_images_non_root_user_with_resource_limits()
    {
        foreach (var container in _kube.Containers)
        {
            if (ImageDockerfile(container.Image) is { } image)
            {
                Assert.True(int.TryParse(image.User, CultureInfo.InvariantCulture, out var uid) && uid > 0, $"{image.Path}: USER {image.User} is not a numeric non-root user");
                Assert.Equal(image.User, container.Security("runAsUser"));
            }

            Assert.True(container.Security("runAsNonRoot") == "true", $"{container.Where}: runAsNonRoot is not set");
            Assert.True(container.Spec.Map("securityContext")?.Str("allowPrivilegeEscalation") == "false", $"{container.Where}: allowPrivilegeEscalation is not false");
            Assert.True(container.Spec.At("securityContext.capabilities")?.Strings("drop").Contains("ALL") == true, $"{container.Where}: capabilities are not dropped");
            Assert.True(container.Spec.At("resources.requests") is { Count: > 0 }, $"{container.Where}: no resource requests");
            Assert.True(container.Spec.At("resources.limits")?.Str("memory") is not null, $"{container.Where}: no memory limit");
        }
    }
}
