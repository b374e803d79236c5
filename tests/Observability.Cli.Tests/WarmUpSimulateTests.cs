using System.Text.Json;
using System.Xml.Linq;
using Observability.Testing;

namespace Observability.Cli.Tests;

public sealed class WarmUpSimulateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("obs-warmup-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Simulate_SmallCsv_ReportsTheColdStartsPingsAndWarmMinutesOfEachPolicy()
    {
        // f is called at 0, 5 and 30 min, g at 0 and 40 min; the trace spans 40 min. Keep-alive 10 min, margin 30 s.
        var trace = Write("small.csv",
            "function,timestamp\n" +
            "f,2026-03-02T00:00:00Z\nf,2026-03-02T00:05:00Z\nf,2026-03-02T00:30:00Z\n" +
            "g,2026-03-02T00:00:00Z\ng,2026-03-02T00:40:00Z\n");

        var run = await ObsCli.RunAsync("warmup", "simulate", "--trace", trace, "--keep-alive", "10m", "--margin", "30s", "--fixed-interval", "5m", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var policies = Policies(run.Stdout);
        var functionDays = 2 * (40.0 / 1440);

        // none: f is cold at 0 and 30 (25 min idle), g at 0 and 40; warm f [0,15] + [30,40], g [0,10].
        var none = policies["none"];
        Assert.Equal(5, none.GetProperty("invocations").GetInt64());
        Assert.Equal(2 + 2, none.GetProperty("coldStarts").GetInt64());
        Assert.Equal(4.0 / 5, none.GetProperty("coldStartRate").GetDouble(), 12);
        Assert.Equal(15 + 10 + 10, none.GetProperty("warmInstanceMinutes").GetDouble(), 9);

        // idle: pings 9.5 min after the last activity. f: 14.5, 24, 39.5; g: 9.5, 19, 28.5, 38. Only first calls are cold.
        var idle = policies["idle"];
        Assert.Equal(1 + 1, idle.GetProperty("coldStarts").GetInt64());
        Assert.Equal(3 + 4, idle.GetProperty("pings").GetInt64());
        Assert.Equal((3 + 4) / functionDays, idle.GetProperty("pingsPerFunctionDay").GetDouble(), 9);
        Assert.Equal(40 + 40, idle.GetProperty("warmInstanceMinutes").GetDouble(), 9);

        // fixed: every 5 min from the first call; a ping due with a call is dropped for the call. f: 0, 5, 10, 15,
        // 20, 25, 30, 35; g: 0, 5, ..., 35.
        var fixedPolicy = policies["fixed"];
        Assert.Equal(1 + 1, fixedPolicy.GetProperty("coldStarts").GetInt64());
        Assert.Equal(8 + 8, fixedPolicy.GetProperty("pings").GetInt64());

        // histogram: 2 and 1 idle times are too few to trust, so it does what idle does.
        var histogram = policies["histogram"];
        Assert.Equal(idle.GetProperty("coldStarts").GetInt64(), histogram.GetProperty("coldStarts").GetInt64());
        Assert.Equal(idle.GetProperty("pings").GetInt64(), histogram.GetProperty("pings").GetInt64());
    }

    [Fact]
    public async Task Simulate_Json_HasTheTraceTheSettingsAndOneEntryPerPolicyInOrder()
    {
        var run = await ObsCli.RunAsync("warmup", "simulate", "--synthetic-functions", "30", "--days", "1", "--seed", "4",
            "--policy", "histogram", "--policy", "none", "--keep-alive", "1m", "--budget-per-hour", "20", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var root = json.RootElement;
        Assert.Equal(1.0, root.GetProperty("trace").GetProperty("days").GetDouble());
        Assert.True(root.GetProperty("trace").GetProperty("invocations").GetInt64() > 0);
        var settings = root.GetProperty("settings");
        Assert.Equal(60, settings.GetProperty("keepAliveSeconds").GetDouble());
        Assert.Equal(6, settings.GetProperty("marginSeconds").GetDouble()); // a tenth of a 1-minute keep-alive
        Assert.Equal(20, settings.GetProperty("budgetPerHour").GetInt32());
        var policies = root.GetProperty("policies").EnumerateArray().ToList();
        Assert.Equal(["histogram", "none"], policies.Select(p => p.GetProperty("policy").GetString()));
        string[] fields =
        [
            "functions", "days", "invocations", "coldStarts", "coldStartRate", "functionColdStartRateP50", "functionColdStartRateP90",
            "functionColdStartRateP99", "pings", "coldPings", "pingsPerFunctionDay", "pingsSkippedByBudget", "warmInstanceMinutes",
            "warmMinutesPerFunctionDay",
        ];
        Assert.All(policies, p => Assert.All(fields, f => Assert.True(p.TryGetProperty(f, out _), f)));
        Assert.True(policies[0].GetProperty("coldStarts").GetInt64() < policies[1].GetProperty("coldStarts").GetInt64());
    }

    [Fact]
    public async Task Simulate_AzureFormat_TwoDayFilesAreOneTrace()
    {
        // One function called once in minute 1 of each day: at 00:00:30 of day 1 and of day 2; the trace is 2 days.
        var day1 = Write("invocations_per_function_md.anon.d01.csv", AzureHeader() + AzureRow(minute: 1));
        var day2 = Write("invocations_per_function_md.anon.d02.csv", AzureHeader() + AzureRow(minute: 1));

        var run = await ObsCli.RunAsync("warmup", "simulate", "--trace", day1, day2, "--policy", "none", "--policy", "idle", "--keep-alive", "10m", "--margin", "30s", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var policies = Policies(run.Stdout);
        Assert.Equal(2, policies["none"].GetProperty("invocations").GetInt64());
        Assert.Equal(2, policies["none"].GetProperty("coldStarts").GetInt64());
        // idle pings every 9.5 min: 0.5 + 9.5k < 1440.5 for k = 1..151 before the second call, and
        // 1440.5 + 9.5k < 2880 for k = 1..151 after it: the second call is warm.
        var idle = policies["idle"];
        Assert.Equal(1, idle.GetProperty("coldStarts").GetInt64());
        Assert.Equal(151 + 151, idle.GetProperty("pings").GetInt64());
        Assert.Equal((151 + 151) / 2.0, idle.GetProperty("pingsPerFunctionDay").GetDouble(), 9);
    }

    [Fact]
    public async Task Simulate_MissingTraceFile_FailsWithExitCode2AndNamesTheFile()
    {
        var missing = Path.Combine(_dir, "no-such-trace.csv");

        var run = await ObsCli.RunAsync("warmup", "simulate", "--trace", missing);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("no-such-trace.csv", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("--synthetic-functions", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_MalformedTrace_FailsWithExitCode2AndTheLine()
    {
        var bad = Write("bad.csv", "f,2026-03-02T00:00:00Z\nf,not-a-time\n");

        var run = await ObsCli.RunAsync("warmup", "simulate", "--trace", bad);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("line 2", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_Chart_WritesAnSvgWithAMarkerAndLabelPerPolicyInBothPanels()
    {
        var chart = Path.Combine(_dir, "chart.svg");

        var run = await ObsCli.RunAsync("warmup", "simulate", "--synthetic-functions", "20", "--days", "1", "--chart", chart);

        Assert.True(run.ExitCode == 0, run.Stderr);
        var svg = XDocument.Load(chart);
        XNamespace ns = "http://www.w3.org/2000/svg";
        var labels = svg.Descendants(ns + "text").Select(t => t.Value).ToList();
        Assert.Equal(4 * 2, svg.Descendants(ns + "circle").Count());
        Assert.All(new[] { "none", "fixed", "idle", "histogram" }, policy => Assert.Equal(2, labels.Count(l => l == policy)));
    }

    [Fact]
    public async Task GenerateTrace_WritesACsvThatSimulateReads()
    {
        var path = Path.Combine(_dir, "synthetic.csv");

        var generated = await ObsCli.RunAsync("warmup", "generate-trace", "--functions", "25", "--days", "1", "--seed", "8", "--output", path);
        var fromFile = await ObsCli.RunAsync("warmup", "simulate", "--trace", path, "--policy", "none", "--json");

        Assert.True(generated.ExitCode == 0, generated.Stderr);
        Assert.True(fromFile.ExitCode == 0, fromFile.Stderr);
        var lines = File.ReadAllLines(path);
        Assert.Equal("function,timestamp", lines[0]);
        Assert.Equal(lines.Length - 1, Policies(fromFile.Stdout)["none"].GetProperty("invocations").GetInt64());
    }

    private static Dictionary<string, JsonElement> Policies(string stdout) =>
        JsonDocument.Parse(stdout).RootElement.GetProperty("policies").EnumerateArray()
            .ToDictionary(p => p.GetProperty("policy").GetString()!, p => p.Clone());

    private static string AzureHeader() =>
        "HashOwner,HashApp,HashFunction,Trigger," + string.Join(',', Enumerable.Range(1, 1440)) + "\n";

    private static string AzureRow(int minute)
    {
        var counts = new int[1440];
        counts[minute - 1] = 1;
        return "owner,app,fn,http," + string.Join(',', counts) + "\n";
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
