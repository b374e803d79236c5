using System.Net;
using System.Net.Sockets;
using Observability.Testing;

namespace Observability.Cli.Tests.Analysis;

/// <summary>What the analysis commands say and return when the collector cannot be asked or the command line is wrong.</summary>
public sealed class ConnectionErrorTests(SeededCollector seeded) : IClassFixture<SeededCollector>
{
    [Theory]
    [InlineData("functions")]
    [InlineData("traces", "search")]
    [InlineData("coldstarts")]
    public async Task Wrong_read_key_is_refused_with_a_clear_error_and_exit_code_1(params string[] command)
    {
        var result = await ObsCli.RunAsync([.. command, "--collector", seeded.ApiEndpoint.ToString(), "--read-key", "not-the-read-key"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("refused the read key from --read-key", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("give its read key with --read-key or OBS_READ_KEY", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task Unreachable_collector_gives_a_clear_error_and_exit_code_1()
    {
        var port = FreePort();
        var result = await ObsCli.RunAsync("trace", new string('b', 32), "--collector", $"http://127.0.0.1:{port}", "--read-key", CollectorRunner.ReadKey);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot reach the collector at http://127.0.0.1:{port}/", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("is it running (obs up)?", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_read_key_says_where_to_give_one()
    {
        var result = await ObsCli.RunAsync("functions", "--json", "--collector", seeded.ApiEndpoint.ToString());

        // No key anywhere (the scratch folder has no keys.json): the error says where to give one.
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no read key: pass --read-key, set OBS_READ_KEY", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("trace", "not-a-trace-id")]
    [InlineData("traces", "search", "--since", "soon")]
    [InlineData("traces", "search", "--attr", "no-equals-sign")]
    [InlineData("traces", "search", "--min-duration", "fast")]
    [InlineData("failures", "show", "xyz")]
    [InlineData("functions", "--no-such-option")]
    [InlineData("coldstarts", "compare")]
    public async Task Bad_usage_exits_with_code_2_and_says_why(params string[] arguments)
    {
        var result = await ObsCli.RunAsync([.. arguments, "--collector", seeded.ApiEndpoint.ToString(), "--read-key", CollectorRunner.ReadKey]);

        Assert.Equal(2, result.ExitCode);
        Assert.NotEqual(string.Empty, result.Stderr.Trim());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
