using System.Globalization;
using System.Net;
using System.Text.Json;
using Observability.Testing;
using OpenTelemetry.Proto.Trace.V1;

namespace Observability.Cli.Tests;

/// <summary>
/// `obs slo status` run as a process against a real collector and PostgreSQL, fed invocations with known errors
/// and durations at known ages: every count, ratio, burn rate and budget is computed here from the same list.
/// </summary>
public sealed class SloStatusTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const decimal AvailabilityObjective = 99m;
    private const decimal LatencyObjective = 90m;
    private const double ThresholdSeconds = 0.5;

    // The alert windows of the SRE workbook (severity, factor, long, short): what `burning` must list.
    private static readonly (string Severity, double Factor, string Long, string Short)[] Alerts =
        [("page", 14.4, "1h", "5m"), ("page", 6, "6h", "30m"), ("ticket", 3, "1d", "2h"), ("ticket", 1, "3d", "6h")];

    private static readonly Dictionary<string, TimeSpan> WindowLengths = new()
    {
        ["5m"] = TimeSpan.FromMinutes(5),
        ["30m"] = TimeSpan.FromMinutes(30),
        ["1h"] = TimeSpan.FromHours(1),
        ["2h"] = TimeSpan.FromHours(2),
        ["6h"] = TimeSpan.FromHours(6),
        ["1d"] = TimeSpan.FromDays(1),
        ["3d"] = TimeSpan.FromDays(3),
        ["7d"] = TimeSpan.FromDays(7),
    };

    private readonly string _function = "checkout-" + Guid.NewGuid().ToString("N")[..8];
    private readonly DateTime _at = DateTime.UtcNow.AddTicks(-(DateTime.UtcNow.Ticks % TimeSpan.TicksPerSecond));
    private CollectorRunner _collector = null!;
    private string _specs = null!;

    /// <summary>What the test sends. Counted: a SERVER span of the function that is not a warm-up ping.</summary>
    private sealed record Invocation(TimeSpan Age, bool Error, double Seconds, int AdjustedCount = 1, bool WarmUp = false, bool Server = true, bool OtherFunction = false)
    {
        public bool Counted => Server && !WarmUp && !OtherFunction;
    }

    private static IEnumerable<Invocation> Repeat(int count, Invocation invocation) => Enumerable.Repeat(invocation, count);

    private static readonly Invocation[] Sent =
    [
        .. Repeat(8, new(TimeSpan.FromMinutes(2), Error: false, Seconds: 0.2)),
        .. Repeat(2, new(TimeSpan.FromMinutes(2), Error: true, Seconds: 0.8)),
        .. Repeat(19, new(TimeSpan.FromMinutes(20), Error: false, Seconds: 0.5)), // on the threshold: good
        new(TimeSpan.FromMinutes(20), Error: true, Seconds: 0.5),
        .. Repeat(70, new(TimeSpan.FromHours(3), Error: false, Seconds: 0.1)),
        new(TimeSpan.FromHours(3), Error: true, Seconds: 1.2, AdjustedCount: 4), // sampled 1 in 4: stands for 4
        .. Repeat(95, new(TimeSpan.FromDays(2), Error: false, Seconds: 0.3)),
        .. Repeat(5, new(TimeSpan.FromDays(2), Error: true, Seconds: 0.3)),
        .. Repeat(50, new(TimeSpan.FromDays(5), Error: false, Seconds: 0.6)),
        .. Repeat(50, new(TimeSpan.FromMinutes(1), Error: true, Seconds: 2, WarmUp: true)), // pings never count
        .. Repeat(5, new(TimeSpan.FromMinutes(1), Error: true, Seconds: 2, Server: false)), // an outgoing call, not an invocation
        .. Repeat(5, new(TimeSpan.FromMinutes(1), Error: true, Seconds: 2, OtherFunction: true)),
    ];

    public async Task InitializeAsync()
    {
        _collector = await CollectorRunner.StartAsync(database.ConnectionString);
        _specs = Directory.CreateTempSubdirectory("obs-slo-status-").FullName;
        var objective = AvailabilityObjective.ToString(CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(Path.Combine(_specs, "availability.yaml"), $"name: checkout-availability\nfunction: {_function}\nobjective: {objective}\nwindow: 7d\nsli: availability\n");
        await File.WriteAllTextAsync(Path.Combine(_specs, "latency.yaml"), $"name: checkout-latency\nfunction: {_function}\nobjective: {LatencyObjective.ToString(CultureInfo.InvariantCulture)}\nwindow: 7d\nsli: latency\nthreshold: {ThresholdSeconds.ToString(CultureInfo.InvariantCulture)}\n");

        var spans = Sent.Where(i => !i.OtherFunction).Select(ToSpan).ToArray();
        using var stored = await _collector.Ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), OtlpFactory.Protobuf(OtlpFactory.Traces("checkout", _function, spans)));
        stored.EnsureSuccessStatusCode();
        using var other = await _collector.Ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), OtlpFactory.Protobuf(OtlpFactory.Traces("other", _function + "-other", Sent.Where(i => i.OtherFunction).Select(ToSpan).ToArray())));
        other.EnsureSuccessStatusCode();

        // Ingest is asynchronous: wait until the last window holds every counted invocation.
        var expected = Sent.Where(i => i.Counted).Sum(i => i.AdjustedCount);
        await Poll.UntilAsync(
            async () => JsonDocument.Parse(await _collector.Query.GetStringAsync(new Uri($"/api/v1/slis?function={_function}&windows=7d&end={Uri.EscapeDataString(_at.ToString("O"))}", UriKind.Relative)))
                .RootElement.GetProperty("items")[0].GetProperty("total").GetDouble(),
            total => total >= expected,
            TimeSpan.FromSeconds(60),
            "the invocations to be stored");
    }

    public async Task DisposeAsync()
    {
        await _collector.DisposeAsync();
        Directory.Delete(_specs, recursive: true);
    }

    [Fact]
    public async Task Status_shows_budget_and_burn_rates_computed_from_the_stored_invocations()
    {
        var result = await Status("--read-key", CollectorRunner.ReadKey);

        Assert.True(result.ExitCode == 0, result.ToString());
        var slos = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("slos").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        AssertSlo(slos["checkout-availability"], AvailabilityObjective, i => i.Error);
        AssertSlo(slos["checkout-latency"], LatencyObjective, i => i.Seconds > ThresholdSeconds);
    }

    [Fact]
    public async Task Status_without_json_prints_a_table_row_per_slo()
    {
        var result = await ObsCli.RunInAsync(_specs, null, "slo", "status", "--specs", _specs, "--collector", _collector.ApiEndpoint.ToString(), "--read-key", CollectorRunner.ReadKey);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("checkout-availability", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("checkout-latency", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Burn rates", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_reads_the_key_from_the_data_folder_of_obs_up()
    {
        var data = Directory.CreateTempSubdirectory("obs-data-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(data, "keys.json"), JsonSerializer.Serialize(new { WriteKey = CollectorRunner.WriteKey, ReadKey = CollectorRunner.ReadKey }));

            var result = await Status("--data-dir", data);

            Assert.True(result.ExitCode == 0, result.ToString());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_wrong_read_key_is_refused_with_what_to_do()
    {
        var result = await Status("--read-key", CollectorRunner.WriteKey);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("refused the read key from --read-key", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("give its read key with --read-key or OBS_READ_KEY", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_collector_says_so()
    {
        var closed = LocalPort();
        var result = await ObsCli.RunInAsync(_specs, new Dictionary<string, string> { ["OBS_COLLECTOR_URL"] = $"http://127.0.0.1:{closed}", ["OBS_READ_KEY"] = CollectorRunner.ReadKey }, "slo", "status", "--specs", _specs);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot reach the collector at http://127.0.0.1:{closed}/", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("is it running (obs up)?", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sli=latency", "threshold is required with sli=latency")]
    [InlineData("sli=speed", "sli=\"speed\" is not an SLI")]
    [InlineData("windows=5m,45d", "windows: \"45d\" is not a window from 1m to 31d")]
    [InlineData("sli=availability&threshold=0.5", "threshold applies to sli=latency only")]
    public async Task The_sli_endpoint_refuses_bad_parameters_with_the_reason(string query, string reason)
    {
        using var response = await _collector.Query.GetAsync(new Uri($"/api/v1/slis?function={_function}&{query}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private void AssertSlo(JsonElement slo, decimal objectivePercent, Func<Invocation, bool> bad)
    {
        var budget = 1 - ((double)objectivePercent / 100);
        Assert.Equal((double)objectivePercent / 100, slo.GetProperty("objective").GetDouble(), 9);
        Assert.Equal("7d", slo.GetProperty("window").GetString());
        double? Ratio(TimeSpan window)
        {
            var inWindow = Sent.Where(i => i.Counted && i.Age < window).ToList();
            double total = inWindow.Sum(i => i.AdjustedCount);
            return total == 0 ? null : inWindow.Where(bad).Sum(i => i.AdjustedCount) / total;
        }

        var windows = slo.GetProperty("windows").EnumerateArray().ToDictionary(w => w.GetProperty("window").GetString()!);
        Assert.Equal(WindowLengths.Keys.Order(), windows.Keys.Order());
        foreach (var (name, length) in WindowLengths)
        {
            var w = windows[name];
            Assert.Equal(Sent.Where(i => i.Counted && i.Age < length).Sum(i => i.AdjustedCount), w.GetProperty("total").GetDouble());
            Assert.Equal(Ratio(length)!.Value, w.GetProperty("errorRatio").GetDouble(), 9);
            Assert.Equal(Ratio(length)!.Value / budget, w.GetProperty("burnRate").GetDouble(), 9);
        }

        Assert.Equal(1 - (Ratio(WindowLengths["7d"])!.Value / budget), slo.GetProperty("budgetRemaining").GetDouble(), 9);
        var expectedBurning = Alerts
            .Where(a => Ratio(WindowLengths[a.Long]) / budget > a.Factor && Ratio(WindowLengths[a.Short]) / budget > a.Factor)
            .Select(a => $"{a.Severity} {a.Long}/{a.Short}");
        var burning = slo.GetProperty("burning").EnumerateArray()
            .Select(b => $"{b.GetProperty("severity").GetString()} {b.GetProperty("longWindow").GetString()}/{b.GetProperty("shortWindow").GetString()}");
        Assert.Equal(expectedBurning, burning);
        var earliest = slo.GetProperty("earliest").GetDateTime().ToUniversalTime();
        Assert.InRange(earliest, _at - Sent.Where(i => i.Counted).Max(i => i.Age) - TimeSpan.FromSeconds(1), _at - Sent.Where(i => i.Counted).Max(i => i.Age) + TimeSpan.FromSeconds(1));
    }

    private Task<ToolResult> Status(params string[] arguments) =>
        ObsCli.RunInAsync(_specs, null, ["slo", "status", "--json", "--specs", _specs, "--collector", _collector.ApiEndpoint.ToString(), "--at", _at.ToString("O", CultureInfo.InvariantCulture), .. arguments]);

    private Span ToSpan(Invocation invocation)
    {
        var start = _at - invocation.Age;
        var span = OtlpFactory.Span(
            "POST /checkout",
            kind: invocation.Server ? Span.Types.SpanKind.Server : Span.Types.SpanKind.Client,
            attributes: [OtlpFactory.Attr("faas.trigger", "http")]);
        span.StartTimeUnixNano = OtlpFactory.Nanos(start);
        span.EndTimeUnixNano = OtlpFactory.Nanos(start + TimeSpan.FromSeconds(invocation.Seconds));
        if (invocation.Error)
        {
            span.Status = new OpenTelemetry.Proto.Trace.V1.Status { Code = OpenTelemetry.Proto.Trace.V1.Status.Types.StatusCode.Error };
        }

        if (invocation.WarmUp)
        {
            span.Attributes.Add(OtlpFactory.Attr("obs.warmup", true));
        }

        if (invocation.AdjustedCount != 1)
        {
            span.Attributes.Add(OtlpFactory.Attr("obs.sampling.adjusted_count", invocation.AdjustedCount));
        }

        return span;
    }

    private static int LocalPort()
    {
        // A port that was free a moment ago and is closed now: nothing listens there.
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
