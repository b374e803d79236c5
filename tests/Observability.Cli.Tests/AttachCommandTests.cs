using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Observability.Testing;

namespace Observability.Cli.Tests;

/// <summary>`obs attach` as a real process: a sidecar in front of the sample function, exporting to a real collector.</summary>
public sealed class AttachCommandTests
{
    [Fact]
    public async Task Obs_attach_puts_a_sidecar_in_front_of_a_function_command_and_its_requests_arrive_as_traces_of_that_function()
    {
        var db = await (await PostgresServer.Shared).CreateDatabaseAsync("attach");
        await using var collector = await CollectorRunner.StartAsync(db);
        var port = Hosting.LocalPostgres.FreePort();
        var function = RepositoryFiles.Built("samples", "HelloFunction", "HelloFunction.dll");
        await using var obs = RunningObs.Start(
            new Dictionary<string, string> { ["OBS_WRITE_KEY"] = CollectorRunner.WriteKey },
            "attach", "--name", "attached", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--otlp-endpoint", collector.OtlpHttpEndpoint.ToString(), "--json", "--", "dotnet", function);

        var printed = await obs.JsonAsync(TimeSpan.FromMinutes(3));
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

        var traces = await Poll.UntilAsync(
            async () => (await collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/traces?function=attached")).GetProperty("items"),
            items => items.GetArrayLength() >= 1,
            TimeSpan.FromSeconds(60),
            "the request's trace");
        Assert.Equal("attached", traces[0].GetProperty("rootService").GetString());

        var running = obs.Descendants();
        Assert.Equal(0, await obs.InterruptAsync(TimeSpan.FromSeconds(60)));
        Assert.DoesNotContain(running, RunningObs.Alive);
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
