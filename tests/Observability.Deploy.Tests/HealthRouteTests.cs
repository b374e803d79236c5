using System.Net;
using Microsoft.AspNetCore.Builder;
using Observability.Deploy.Tests.Model;
using Observability.Hosting;
using Observability.Sidecar;
using Observability.Testing;
using Observability.WarmUp.Scheduling;

namespace Observability.Deploy.Tests;

/// <summary>
/// The paths the probes and health checks ask for are real routes: each program is started (on loopback, free
/// ports, a test database) and asked every one of them without a key, as the kubelet and Docker ask.
/// </summary>
public sealed class HealthRouteTests : IDisposable
{
    private readonly ComposeFile _compose = DeployTree.Compose();
    private readonly KubeManifests _kube = new();

    public void Dispose() => _kube.Secrets.Dispose();

    [Fact]
    public async Task Every_health_path_deploy_asks_for_answers_on_the_running_program_without_a_key()
    {
        var checks = HealthChecks.All(_compose, _kube);
        var server = await PostgresServer.Shared;
        var answers = new List<(HealthChecks.Check Check, HttpStatusCode Status)>();

        using var tls = TestCertificates.Create();
        foreach (var useTls in checks.Where(c => c.Program == SuiteProgram.Collector).Select(c => c.Tls).Distinct())
        {
            await using var collector = await CollectorRunner.StartAsync(await server.CreateDatabaseAsync("deploy"), tls: useTls ? tls : null);
            using var client = collector.ClientFor(collector.ApiEndpoint, key: null);
            foreach (var check in checks.Where(c => c.Program == SuiteProgram.Collector && c.Tls == useTls))
            {
                answers.Add((check, (await client.GetAsync(new Uri(check.Path, UriKind.Relative))).StatusCode));
            }
        }

        var warmUpDatabase = await server.CreateDatabaseAsync("deploy");
        await using (var warmUp = WarmUpScheduler.Build(["--Logging:LogLevel:Default=Warning"], o =>
        {
            o.DatabaseUrl = warmUpDatabase;
            o.ReadKey = CollectorRunner.ReadKey;
            o.WarmUpToken = "deploy-test-warmup-token-0123";
            o.Port = 0;
            o.WorkerCount = 0;
        }))
        {
            await warmUp.StartAsync();
            using var client = CollectorRunner.Client(WarmUpScheduler.Port(warmUp), key: null);
            foreach (var check in checks.Where(c => c.Program == SuiteProgram.WarmUp))
            {
                answers.Add((check, (await client.GetAsync(new Uri(check.Path, UriKind.Relative))).StatusCode));
            }

            await warmUp.StopAsync();
        }

        var adminPort = LocalPostgres.FreePort();
        var spool = Directory.CreateTempSubdirectory("obs-deploy-sidecar");
        await using (var sidecar = SidecarApp.Build(
        [
            "--Sidecar:FunctionName=deploy-health", $"--Sidecar:Port={LocalPostgres.FreePort()}", $"--Sidecar:AdminPort={adminPort}",
            $"--Sidecar:UpstreamPort={LocalPostgres.FreePort()}", $"--Sidecar:SpoolDirectory={spool.FullName}", "--Logging:LogLevel:Default=Warning",
        ]))
        {
            await sidecar.StartAsync();
            using var client = CollectorRunner.Client(adminPort, key: null);
            foreach (var check in checks.Where(c => c.Program == SuiteProgram.Sidecar))
            {
                answers.Add((check, (await client.GetAsync(new Uri(check.Path, UriKind.Relative))).StatusCode));
            }

            await sidecar.StopAsync();
        }

        spool.Delete(recursive: true);
        Assert.Equal(checks.Count, answers.Count);
        // Liveness, startup and HEALTHCHECK must pass on a healthy program. Readiness may say "not yet" (the sidecar's
        // /readyz is 503 while no function listens), but must be a route that needs no key.
        var wrong = answers.Where(a => a.Check.Kind == "readinessProbe"
                ? a.Status is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                : a.Status != HttpStatusCode.OK)
            .Select(a => $"{a.Check.Where}: {a.Check.Kind} {a.Check.Path} answered {(int)a.Status}")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
        Assert.Contains(answers, a => a.Check.Program == SuiteProgram.Sidecar && a.Check.Kind == "readinessProbe");
    }
}
