using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Observability.Testing;

namespace Observability.Cli.Tests;

/// <summary>`obs up` as a real process: it starts the warm-up scheduler beside the collector, with the suite's keys.</summary>
public sealed class UpCommandWarmUpTests
{
    private const string WarmUpToken = "up-command-warm-up-token-91ac";

    [Fact]
    public async Task Obs_up_starts_the_warm_up_scheduler_and_prints_its_dashboard_and_the_web_ui_behind_the_read_key()
    {
        var db = await (await PostgresServer.Shared).CreateDatabaseAsync("up");
        var dataDir = Path.Combine(Path.GetTempPath(), $"obs-up-test-{Guid.NewGuid():N}");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Obs, "up", "--data-dir", dataDir, "--database-url", db, "--grpc-port", "0", "--otlp-port", "0", "--http-port", "0", "--warmup-port", "0", "--json" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["OBS_WRITE_KEY"] = CollectorRunner.WriteKey;
        info.Environment["OBS_READ_KEY"] = CollectorRunner.ReadKey;
        info.Environment["OBS_WARMUP_TOKEN"] = WarmUpToken;
        using var process = Process.Start(info)!;
        var endpoints = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.StartsWith('{') == true)
            {
                endpoints.TrySetResult(JsonDocument.Parse(e.Data).RootElement.Clone());
            }
        };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var printed = await endpoints.Task.WaitAsync(TimeSpan.FromSeconds(90));
            Assert.Equal(WarmUpToken, printed.GetProperty("warmUpToken").GetString());
            var hangfire = new Uri(printed.GetProperty("hangfire").GetString()!);
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(hangfire)).StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, hangfire);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("me:" + CollectorRunner.ReadKey)));
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
            // The web UI it prints asks a browser for the read key, and opens with it.
            var ui = new Uri(printed.GetProperty("ui").GetString()!);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(ui)).StatusCode);
            using var uiRequest = new HttpRequestMessage(HttpMethod.Get, ui);
            uiRequest.Headers.Authorization = request.Headers.Authorization;
            using var page = await client.SendAsync(uiRequest);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
            // Its schemas are in the suite's database, beside the collector's tables.
            Assert.Equal(2L, await Sql.ScalarAsync<long>(db, "SELECT count(*) FROM pg_namespace WHERE nspname IN ('hangfire', 'warmup')"));
        }
        catch (TimeoutException)
        {
            lock (output)
            {
                Assert.Fail("obs up printed no endpoints: " + output);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    private static string Obs => RepositoryFiles.Built("src", "Observability.Cli", "obs.dll");
}
