using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Observability.Testing;

namespace Observability.Cli.Tests;

/// <summary>
/// The real `obs demo` for about a minute over the PostgreSQL fixture: the suite, the sample functions behind real
/// sidecars, Prometheus and the traffic. What a newcomer is promised must arrive through the API, then Ctrl+C must
/// leave no process behind.
/// </summary>
public sealed partial class DemoCommandTests
{
    private const string MetricsKey = "demo-test-metrics-key-4e1f";
    private const string WarmUpToken = "demo-test-warm-up-token-8c2a";

    // The demo's checkout function sleeps this long before it listens (DemoFunctions: INIT_DELAY_MS).
    private static readonly TimeSpan CheckoutInit = TimeSpan.FromMilliseconds(1500);

    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Obs_demo_shows_traces_across_functions_cold_starts_snapshots_warm_up_pings_and_evaluated_rules_and_ctrl_c_leaves_no_process()
    {
        var db = await (await PostgresServer.Shared).CreateDatabaseAsync("demo");
        var dataDir = Directory.CreateTempSubdirectory("obs-demo-test-").FullName;
        var started = DateTimeOffset.UtcNow;
        await using var obs = RunningObs.Start(
            new Dictionary<string, string>
            {
                ["OBS_WRITE_KEY"] = CollectorRunner.WriteKey,
                ["OBS_READ_KEY"] = CollectorRunner.ReadKey,
                ["OBS_METRICS_KEY"] = MetricsKey,
                ["OBS_WARMUP_TOKEN"] = WarmUpToken,
            },
            "demo", "--data-dir", dataDir, "--database-url", db, "--grpc-port", "0", "--otlp-port", "0", "--http-port", "0",
            "--warmup-port", "0", "--prometheus-port", "0", "--functions-port", "0", "--seed", "7", "--json");
        try
        {
            var printed = await obs.JsonAsync(TimeSpan.FromMinutes(5));
            var suite = printed.GetProperty("suite");
            Assert.Equal(CollectorRunner.ReadKey, suite.GetProperty("readKey").GetString());
            using var api = new HttpClient { BaseAddress = new Uri(suite.GetProperty("api").GetString()! + "/"), Timeout = TimeSpan.FromSeconds(30) };
            api.DefaultRequestHeaders.Authorization = new("Bearer", CollectorRunner.ReadKey);

            // One trace spans two functions: checkout calls node-hello through its sidecar, passing the trace on.
            await Poll.UntilAsync(
                () => Items(api, "traces?function=checkout&limit=100"),
                traces => traces.Any(t => Services(t).SetEquals(["checkout", "node-hello"])),
                Arrival,
                "a trace through checkout and node-hello");

            // Cold starts: checkout scales to zero between bursts, and each of its cold starts pays its slow init.
            var coldStarts = await Poll.UntilAsync(
                () => Items(api, "coldstarts?function=checkout"),
                items => items.Count == 1 && items[0].GetProperty("coldStarts").GetDouble() >= 1 && items[0].TryGetProperty("initMs", out _),
                Arrival,
                "checkout's cold starts");
            Assert.True(coldStarts[0].GetProperty("initMs").GetProperty("p50").GetDouble() >= CheckoutInit.TotalMilliseconds);

            // Failure snapshots: errors of the .NET and Node functions, hello's crash, and failing gRPC calls.
            await Poll.UntilAsync(
                () => Items(api, "snapshots?limit=200"),
                snapshots => new[] { ("hello", "crash"), ("hello", "status_5xx"), ("orders", "grpc_error") }
                    .All(want => snapshots.Any(s => s.GetProperty("functionName").GetString() == want.Item1 && s.GetProperty("trigger").GetString() == want.Item2)),
                Arrival,
                "snapshots of a crash, a 5xx and a gRPC error");

            // Warm-up pings answered by the sidecars of both warmed functions, each under its own policy.
            var functions = await Poll.UntilAsync(
                () => Items(api, "functions?limit=100"),
                items => new[] { "hello", "node-hello" }.All(name => items.Any(f => f.GetProperty("name").GetString() == name && AnsweredPings(f) >= 1)),
                Arrival,
                "answered warm-up pings of hello and node-hello");
            Assert.Equal("histogram", Function(functions, "hello").GetProperty("warmUp").GetProperty("policy").GetString());
            Assert.Equal("fixed", Function(functions, "node-hello").GetProperty("warmUp").GetProperty("policy").GetString());

            // Prometheus evaluates every rule group of dashboards/prometheus/rules over what it scrapes.
            var groups = RuleGroupNames();
            using var prometheus = new HttpClient { BaseAddress = new Uri(printed.GetProperty("prometheus").GetString()!), Timeout = TimeSpan.FromSeconds(30) };
            await Poll.UntilAsync(
                async () => (await prometheus.GetFromJsonAsync<JsonElement>("/api/v1/rules")).GetProperty("data").GetProperty("groups").EnumerateArray()
                    .Where(g => g.GetProperty("lastEvaluation").GetDateTimeOffset() > started)
                    .Select(g => g.GetProperty("name").GetString()!).ToHashSet(),
                evaluated => evaluated.IsSupersetOf(groups),
                Arrival,
                $"Prometheus to evaluate the rule groups {string.Join(", ", groups)}");

            var running = obs.Descendants();
            Assert.NotEmpty(running);
            Assert.Equal(0, await obs.InterruptAsync(TimeSpan.FromSeconds(90)));
            var left = running.Where(RunningObs.Alive).ToList();
            Assert.True(left.Count == 0, $"left running after Ctrl+C: {string.Join(", ", left.Select(p => p.Pid))}\n{obs.Output}");
        }
        catch (Exception e) when (e is TimeoutException or Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{e.Message}\nobs output:\n{obs.Output}", e);
        }
        finally
        {
            await obs.DisposeAsync();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task<IReadOnlyList<JsonElement>> Items(HttpClient api, string path) =>
        [.. (await api.GetFromJsonAsync<JsonElement>(path)).GetProperty("items").EnumerateArray()];

    private static HashSet<string> Services(JsonElement trace) =>
        [.. trace.GetProperty("services").EnumerateArray().Select(s => s.GetString()!)];

    private static JsonElement Function(IReadOnlyList<JsonElement> functions, string name) =>
        functions.Single(f => f.GetProperty("name").GetString() == name);

    private static double AnsweredPings(JsonElement function) =>
        function.TryGetProperty("warmUp", out var warmUp)
            ? warmUp.GetProperty("pings").GetProperty("warm").GetDouble() + warmUp.GetProperty("pings").GetProperty("cold").GetDouble()
            : 0;

    // The group names of the suite's rule files, read here from the files themselves.
    private static HashSet<string> RuleGroupNames() =>
        [.. Directory.EnumerateFiles(Path.Combine(RepositoryFiles.Root, "dashboards", "prometheus", "rules"), "*.yml")
            .SelectMany(File.ReadLines)
            .Select(line => GroupName().Match(line))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value.Trim('"', '\''))];

    [GeneratedRegex(@"^- name: (\S+)\s*$")]
    private static partial Regex GroupName();
}
