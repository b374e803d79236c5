using System.Net;
using Observability.Hosting;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>The sidecar in front of a function it did not start, as in a pod with a shared process namespace.</summary>
public sealed class AttachModeTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task An_attached_function_is_traced_and_a_restarted_one_is_cold_with_its_process_start()
    {
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString);
        var port = LocalPostgres.FreePort();
        var first = SidecarRunner.StartFunction("attached", port);
        try
        {
            await using var sidecar = await SidecarRunner.StartAttachedAsync("attached", collector, port);
            await Poll.UntilAsync(() => sidecar.Admin.GetAsync("/readyz"), r => r.IsSuccessStatusCode, what: "the sidecar to find the function");
            Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);

            // The function restarts (as a container would): the sidecar follows the new process.
            first.Kill();
            await first.WaitForExitAsync();
            await Poll.UntilAsync(() => sidecar.Admin.GetStringAsync("/metrics"), m => MetricsText.Value(m, "obs_sidecar_function_up") == 0, what: "the exit to be seen");
            using var second = SidecarRunner.StartFunction("attached", port);
            try
            {
                Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);

                var spans = (await collector.SpansAsync("attached", "GET /hello", n => n >= 3)).OrderBy(s => s.GetProperty("startTime").GetDateTime()).ToList();
                // Already serving when the sidecar came: its cold start was not seen, so not claimed.
                Assert.Equal([false, true, false], spans.Select(s => s.GetProperty("function").GetProperty("coldStart").GetBoolean()).ToArray());

                var coldStart = Assert.Single(await collector.SpansAsync("attached", "faas.coldstart", n => n >= 1));
                var processStart = coldStart.GetProperty("attributes").GetProperty("obs.coldstart.process_start").GetDateTime().ToUniversalTime();
                Assert.InRange(processStart, second.StartTime.ToUniversalTime().AddSeconds(-1), second.StartTime.ToUniversalTime().AddSeconds(1));
                Assert.Equal(second.Id, coldStart.GetProperty("attributes").GetProperty("process.pid").GetInt32());
                Assert.Equal(1, MetricsText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "obs_sidecar_function_crashes_total"));
            }
            finally
            {
                second.Kill();
            }
        }
        finally
        {
            first.Kill();
            first.Dispose();
        }
    }
}
