using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Observability.Collector.Hosting;
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

                var spans = (await Poll.UntilAsync(() => HelloSpansAsync(collector), s => s.Count >= 3, what: "three invocations"))
                    .OrderBy(s => s.GetProperty("startTime").GetDateTime()).ToList();
                // Already serving when the sidecar came: its cold start was not seen, so not claimed.
                Assert.Equal([false, true, false], spans.Select(s => s.GetProperty("function").GetProperty("coldStart").GetBoolean()).ToArray());

                var coldStart = await Poll.UntilAsync(() => ColdStartAsync(collector), c => c is not null, what: "the cold-start record");
                var processStart = coldStart!.Value.GetProperty("attributes").GetProperty("obs.coldstart.process_start").GetDateTime().ToUniversalTime();
                Assert.InRange(processStart, second.StartTime.ToUniversalTime().AddSeconds(-1), second.StartTime.ToUniversalTime().AddSeconds(1));
                Assert.Equal(second.Id, coldStart.Value.GetProperty("attributes").GetProperty("process.pid").GetInt32());
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

    private static async Task<List<JsonElement>> HelloSpansAsync(CollectorRunner collector)
    {
        var found = await collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/traces?service=attached&name=GET%20/hello&limit=10");
        var spans = new List<JsonElement>();
        foreach (var t in found.GetProperty("items").EnumerateArray())
        {
            var trace = await collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/traces/{t.GetProperty("traceId").GetString()}");
            spans.AddRange(trace.GetProperty("spans").EnumerateArray().Where(s => s.GetProperty("name").GetString() == "GET /hello"));
        }

        return spans;
    }

    private static async Task<JsonElement?> ColdStartAsync(CollectorRunner collector)
    {
        var found = await collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/traces?service=attached&name=faas.coldstart&limit=10");
        if (found.GetProperty("items").GetArrayLength() == 0)
        {
            return null;
        }

        var trace = await collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/traces/{found.GetProperty("items")[0].GetProperty("traceId").GetString()}");
        return trace.GetProperty("spans").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "faas.coldstart");
    }
}
