using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MathNet.Numerics.Distributions;
using Observability.Testing;
using static Observability.Collector.Tests.Analysis.AnalysisSeed;
using static Observability.Collector.Tests.Analysis.FunctionsApiTests;
using static Observability.Testing.OtlpFactory;
using Span = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Collector.Tests.Analysis;

/// <summary>GET /api/v1/coldstarts/compare: a version against the one before it, the tests' numbers worked out here.</summary>
public sealed class VersionComparisonApiTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private static readonly double[] InitsV1 = [100, 110, 120, 130, 140, 150, 160, 170];
    private static readonly double[] InitsV2 = [150, 160, 180, 200, 210, 220, 240, 260, 280, 300];
    private const int Invocations = 40;

    private CollectorRunner _collector = null!;
    private DateTime _t0;

    public async Task InitializeAsync()
    {
        _collector = await CollectorRunner.StartAsync(database.ConnectionString);
        _t0 = Minute(DateTime.UtcNow.AddHours(-4));
    }

    /// <summary>Version 1, then version 2 an hour later, of a function of the test's own (the database is the class's).</summary>
    private async Task SeedAsync(string function)
    {
        await IngestAsync(Export(function, "1", Seed(_t0, InitsV1)));
        await IngestAsync(Export(function, "2", Seed(_t0.AddHours(1), InitsV2)));
    }

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    /// <summary>40 invocations a minute apart, the first ones cold with the given init durations.</summary>
    private static Span[] Seed(DateTime from, double[] inits)
    {
        var spans = new List<Span>();
        for (var i = 0; i < Invocations; i++)
        {
            var invocation = Invocation(from.AddMinutes(i), 20, cold: i < inits.Length);
            spans.Add(invocation);
            if (i < inits.Length)
            {
                spans.AddRange(ColdStartRecord(invocation, null, inits[i], null, 10));
            }
        }

        return [.. spans];
    }

    [Fact]
    public async Task The_newest_version_against_the_one_before_it_has_the_changes_the_tests_and_the_regression_flag()
    {
        await SeedAsync("cmp-fn");
        var comparison = await _collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/coldstarts/compare?function=cmp-fn");

        var from = comparison.GetProperty("from");
        var to = comparison.GetProperty("to");
        Assert.Equal(("1", "2"), (from.GetProperty("version").GetString(), to.GetProperty("version").GetString()));
        var (p95From, p95To) = (Percentile(InitsV1, 0.95), Percentile(InitsV2, 0.95));
        Assert.Equal((p95From, p95To), (from.GetProperty("initP95Ms").GetDouble(), to.GetProperty("initP95Ms").GetDouble()));
        Assert.Equal(p95To - p95From, comparison.GetProperty("initP95ChangeMs").GetDouble(), 1e-9);
        Assert.Equal((p95To / p95From) - 1, comparison.GetProperty("initP95ChangeRatio").GetDouble(), 1e-12);
        var (rateFrom, rateTo) = (InitsV1.Length / (double)Invocations, InitsV2.Length / (double)Invocations);
        Assert.Equal((rateFrom, rateTo), (from.GetProperty("coldStartRate").GetDouble(), to.GetProperty("coldStartRate").GetDouble()));
        Assert.Equal(rateTo - rateFrom, comparison.GetProperty("coldStartRateChange").GetDouble(), 1e-12);

        // Mann-Whitney U by counting pairs (ties half), the tie-corrected variance and the continuity correction.
        double n1 = InitsV1.Length, n2 = InitsV2.Length, n = n1 + n2;
        var u1 = InitsV1.Sum(x => InitsV2.Sum(y => x > y ? 1.0 : x == y ? 0.5 : 0));
        var ties = InitsV1.Concat(InitsV2).GroupBy(v => v).Sum(g => Math.Pow(g.Count(), 3) - g.Count());
        var sigma = Math.Sqrt(n1 * n2 / 12 * (n + 1 - (ties / (n * (n - 1)))));
        var z = (Math.Max(u1, (n1 * n2) - u1) - (n1 * n2 / 2) - 0.5) / sigma;
        var mannWhitney = comparison.GetProperty("mannWhitney");
        Assert.Equal(u1, mannWhitney.GetProperty("statistic").GetDouble());
        Assert.Equal(2 * (1 - Normal.CDF(0, 1, z)), mannWhitney.GetProperty("pValue").GetDouble(), 1e-9);

        // Two-proportion z with the pooled rate.
        var pooled = (InitsV1.Length + InitsV2.Length) / (2.0 * Invocations);
        var zRate = (rateTo - rateFrom) / Math.Sqrt(pooled * (1 - pooled) * (2.0 / Invocations));
        var twoProportion = comparison.GetProperty("twoProportion");
        Assert.Equal(zRate, twoProportion.GetProperty("z").GetDouble(), 1e-12);
        Assert.Equal(2 * (1 - Normal.CDF(0, 1, Math.Abs(zRate))), twoProportion.GetProperty("pValue").GetDouble(), 1e-9);

        // The rule: init slower and significant (p95 +76%), the rate's rise not significant (8/40 → 10/40).
        Assert.True(mannWhitney.GetProperty("pValue").GetDouble() < 0.05 && twoProportion.GetProperty("pValue").GetDouble() > 0.05);
        Assert.True(comparison.GetProperty("regression").GetBoolean());
        Assert.Contains("p95 init duration", Assert.Single(comparison.GetProperty("reasons").EnumerateArray()).GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_faster_version_is_no_regression_and_unknown_versions_or_functions_are_refused()
    {
        await SeedAsync("cmp-back");
        var comparison = await _collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/coldstarts/compare?function=cmp-back&from=2&to=1&start={Iso(_t0)}");

        Assert.False(comparison.GetProperty("regression").GetBoolean());
        Assert.Empty(comparison.GetProperty("reasons").EnumerateArray());
        Assert.True(comparison.GetProperty("mannWhitney").GetProperty("pValue").GetDouble() < 0.05);

        foreach (var (query, code, says) in new[]
        {
            ("function=cmp-back&to=9", HttpStatusCode.BadRequest, "no version \"9\""),
            ("function=cmp-back&to=1", HttpStatusCode.BadRequest, "first"),
            ("", HttpStatusCode.BadRequest, "function is required"),
            ("function=no-such-fn", HttpStatusCode.NotFound, "no function"),
        })
        {
            using var response = await _collector.Query.GetAsync("/api/v1/coldstarts/compare?" + query);
            Assert.Equal(code, response.StatusCode);
            Assert.Contains(says, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
        }
    }

    private async Task IngestAsync(OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest request)
    {
        using var response = await _collector.Ingest.PostAsync("/v1/traces", Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
