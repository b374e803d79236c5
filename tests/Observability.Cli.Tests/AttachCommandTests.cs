using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Observability.Testing;

namespace Observability.Cli.Tests;

/// <summary>`obs attach` as a real process: a sidecar in front of the sample function, exporting to a real collector.</summary>
public sealed class AttachCommandTests
{
    [Fact]
    public async Task Obs_attach_puts_a_sidecar_in_front_of_a_function_command_and_its_requests_arrive_in_the_running_suite_with_its_keys()
    {
        var db = await (await PostgresServer.Shared).CreateDatabaseAsync("attach");
        var dataDir = Directory.CreateTempSubdirectory("obs-attach-test-").FullName;
        // The suite as `obs up` runs it, with keys it generates into its data folder: attach must find them there.
        await using var up = RunningObs.Start(
            new Dictionary<string, string>(),
            "up", "--data-dir", dataDir, "--database-url", db, "--grpc-port", "0", "--otlp-port", "0", "--http-port", "0", "--warmup-port", "0", "--json");
        try
        {
            var suite = await up.JsonAsync(TimeSpan.FromMinutes(2));
            var port = Hosting.LocalPostgres.FreePort();
            var function = RepositoryFiles.Built("samples", "HelloFunction", "HelloFunction.dll");
            await using var obs = RunningObs.Start(
                new Dictionary<string, string>(),
                "attach", "--name", "attached", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data-dir", dataDir, "--json",
                "--", "dotnet", function);

            var printed = await obs.JsonAsync(TimeSpan.FromMinutes(3));
            Assert.Equal(suite.GetProperty("otlpHttp").GetString(), printed.GetProperty("otlpEndpoint").GetString());
            var url = new Uri(printed.GetProperty("url").GetString()!);
            Assert.Equal(port, url.Port);
            using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
            var answer = await Poll.UntilAsync(
                async () =>
                {
                    try
                    {
                        return await client.GetAsync("hello?name=attach");
                    }
                    catch (HttpRequestException)
                    {
                        return null;
                    }
                },
                response => response is not null,
                TimeSpan.FromSeconds(60),
                "the sidecar to listen");
            Assert.Equal(HttpStatusCode.OK, answer!.StatusCode);
            Assert.StartsWith("hello, attach from", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // The sidecar exported with the suite's write key: the trace is there for its read key.
            using var api = new HttpClient { BaseAddress = new Uri(suite.GetProperty("api").GetString()! + "/"), Timeout = TimeSpan.FromSeconds(30) };
            api.DefaultRequestHeaders.Authorization = new("Bearer", suite.GetProperty("readKey").GetString());
            var traces = await Poll.UntilAsync(
                async () => (await api.GetFromJsonAsync<JsonElement>("traces?function=attached")).GetProperty("items"),
                items => items.GetArrayLength() >= 1,
                TimeSpan.FromSeconds(60),
                "the request's trace");
            Assert.Equal("attached", traces[0].GetProperty("rootService").GetString());

            var running = obs.Descendants();
            Assert.NotEmpty(running);
            Assert.Equal(0, await obs.InterruptAsync(TimeSpan.FromSeconds(60)));
            Assert.DoesNotContain(running, RunningObs.Alive);
        }
        finally
        {
            await up.DisposeAsync();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Obs_attach_without_a_running_suite_or_a_write_key_says_how_to_get_one()
    {
        var scratch = Directory.CreateTempSubdirectory("obs-attach-");
        try
        {
            var result = await ObsCli.RunInAsync(scratch.FullName, null, "attach", "--", "dotnet", "App.dll");
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("OBS_WRITE_KEY", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("obs up", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }
}
