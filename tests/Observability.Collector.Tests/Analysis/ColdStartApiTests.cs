using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Observability.Testing;
using static Observability.Collector.Tests.Analysis.AnalysisSeed;
using static Observability.Collector.Tests.Analysis.FunctionsApiTests;
using static Observability.Testing.OtlpFactory;
using Span = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Collector.Tests.Analysis;

/// <summary>GET /api/v1/coldstarts: every number checked against the same number worked out here from the seeded spans.</summary>
public sealed class ColdStartApiTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    /// <summary>A cold start as seeded: when, the invocation's duration, its phases, and its startup profile.</summary>
    private sealed record Cold(int Minute, double Ms, double? Spawn, double Init, double? Runtime, double FirstRequest, string[]? Assemblies = null, string[]? Methods = null, bool Ping = false);

    [Fact]
    public async Task Rates_init_percentiles_phases_first_invocation_tail_profile_and_series_match_the_seeded_spans()
    {
        var t0 = Minute(DateTime.UtcNow.AddHours(-2));
        var end = t0.AddHours(1);
        const int Buckets = 4;

        // Warm invocations: 16 fast ones across the hour, two slow outliers, and a sampled fast one standing for 200.
        var warm = Enumerable.Range(0, 16).Select(i => (Minute: i * 3 + 1, Ms: 10.0 + i, Weight: 1.0))
            .Concat([(Minute: 7, Ms: 1500.0, Weight: 1.0), (Minute: 52, Ms: 2000.0, Weight: 1.0), (Minute: 33, Ms: 12.0, Weight: 200.0)]).ToList();
        var colds = new List<Cold>
        {
            new(5, 400, 30, 300, 100, 50, ["System.Private.CoreLib 12.50 ms", "App 30.00 ms"], ["App.Program.Main 8.00 ms"]),
            new(20, 600, null, 500, null, 70, ["App 20.00 ms", "Npgsql 15.00 ms"], ["App.Program.Main 6.00 ms", "Npgsql.Connect 4.00 ms"]),
            new(35, 800, 20, 700, 200, 60),
            new(50, 1000, 40, 900, 250, 90, ["App 10.00 ms"], []),
            new(44, 1200, 10, 1100, 150, 40, Ping: true), // a warm-up ping that paid a cold start: out of the rate, in the init numbers
        };
        var spans = new List<Span>();
        spans.AddRange(warm.Select(w => Invocation(t0.AddMinutes(w.Minute), w.Ms, adjustedCount: w.Weight == 1 ? null : w.Weight)));
        spans.Add(Invocation(t0.AddMinutes(10), 3000, warmUp: true));
        foreach (var c in colds)
        {
            var invocation = Invocation(t0.AddMinutes(c.Minute), c.Ms, cold: true, warmUp: c.Ping);
            spans.Add(invocation);
            spans.AddRange(ColdStartRecord(invocation, c.Spawn, c.Init, c.Runtime, c.FirstRequest, c.Assemblies, c.Methods));
        }

        var before = Invocation(t0.AddMinutes(-5), 9000, cold: true);
        spans.Add(before);
        spans.AddRange(ColdStartRecord(before, 5, 5000, 1000, 100));
        await IngestAsync(Export("cs-fn", "3", [.. spans]));
        await IngestAsync(Export("cs-fn", "4", Invocation(t0.AddMinutes(1), 5, cold: true)));

        var page = await _collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/coldstarts?function=cs-fn&version=3&start={Iso(t0)}&end={Iso(end)}&buckets={Buckets}");
        var item = Assert.Single(page.GetProperty("items").EnumerateArray());

        // Rate: cold invocations / invocations, adjusted counts, pings left out.
        var users = colds.Where(c => !c.Ping).ToList();
        var invocations = warm.Sum(w => w.Weight) + users.Count;
        Assert.Equal(invocations, item.GetProperty("invocations").GetDouble());
        Assert.Equal(users.Count, item.GetProperty("coldStarts").GetDouble());
        Assert.Equal(users.Count / invocations, item.GetProperty("coldStartRate").GetDouble(), 1e-12);
        Assert.Equal(1, item.GetProperty("pingColdStarts").GetDouble());

        // Init duration over every cold-start record in the range (the ping's too).
        Assert.Equal(colds.Count, item.GetProperty("records").GetDouble());
        var init = item.GetProperty("initMs");
        foreach (var (name, p) in new[] { ("p50", 0.5), ("p95", 0.95), ("p99", 0.99) })
        {
            Assert.Equal(Percentile(colds.Select(c => c.Init), p), init.GetProperty(name).GetDouble(), 1e-6);
        }

        Assert.Equal(colds.Count, item.GetProperty("initHistogram").EnumerateArray().Sum(b => b.GetProperty("count").GetDouble()));

        // Phase medians, each over the records that have the phase.
        var phases = item.GetProperty("phases").EnumerateArray().ToDictionary(p => p.GetProperty("phase").GetString()!);
        Assert.Equal(["spawn", "init", "runtime_start", "app_init", "first_request"], phases.Keys.ToArray());
        void Phase(string name, IEnumerable<double> values)
        {
            var list = values.ToList();
            Assert.Equal(list.Count, phases[name].GetProperty("count").GetDouble());
            Assert.Equal(Percentile(list, 0.5), phases[name].GetProperty("medianMs").GetDouble(), 1e-6);
        }

        Phase("spawn", colds.Where(c => c.Spawn is not null).Select(c => c.Spawn!.Value));
        Phase("init", colds.Select(c => c.Init));
        Phase("runtime_start", colds.Where(c => c.Runtime is not null).Select(c => c.Runtime!.Value));
        Phase("app_init", colds.Where(c => c.Runtime is not null).Select(c => c.Init - c.Runtime!.Value));
        Phase("first_request", colds.Select(c => c.FirstRequest));

        // The first invocation against the warm median (weighted: the sampled fast one counts 200 times).
        var all = warm.Select(w => (w.Ms, w.Weight, Cold: false)).Concat(users.Select(c => (c.Ms, Weight: 1.0, Cold: true))).ToList();
        var coldMedian = Percentile(users.Select(c => c.Ms), 0.5);
        var warmMedian = WeightedPercentile(warm.Select(w => (w.Ms, w.Weight)), 0.5);
        var first = item.GetProperty("firstInvocation");
        Assert.Equal((coldMedian, warmMedian, coldMedian - warmMedian), (first.GetProperty("coldMedianMs").GetDouble(), first.GetProperty("warmMedianMs").GetDouble(), first.GetProperty("extraMs").GetDouble()));

        // The tail: of the requests at or above p99 (weighted), the cold share; and p99 of the warm ones alone.
        var p99 = WeightedPercentile(all.Select(a => (a.Ms, a.Weight)), 0.99);
        var atOrAbove = all.Where(a => a.Ms >= p99).ToList();
        var tail = item.GetProperty("tail");
        Assert.Equal(p99, tail.GetProperty("p99Ms").GetDouble());
        Assert.Equal(atOrAbove.Sum(a => a.Weight), tail.GetProperty("requestsAtOrAboveP99").GetDouble());
        var share = atOrAbove.Where(a => a.Cold).Sum(a => a.Weight) / atOrAbove.Sum(a => a.Weight);
        Assert.Equal(share, tail.GetProperty("coldShareAtOrAboveP99").GetDouble(), 1e-12);
        Assert.InRange(share, 0.01, 0.99); // the seed makes it a real mix, not 0 or 1
        Assert.Equal(WeightedPercentile(warm.Select(w => (w.Ms, w.Weight)), 0.99), tail.GetProperty("p99WithoutColdMs").GetDouble());

        // The startup profile: totals over the starts whose top five held the item.
        var profile = item.GetProperty("startupProfile");
        var profiled = colds.Where(c => c.Assemblies is not null).ToList();
        Assert.Equal((colds.Count, profiled.Count), (profile.GetProperty("records").GetInt32(), profile.GetProperty("profiled").GetInt32()));
        Assert.Equal(profiled.Average(c => c.Assemblies!.Length * 10.0), profile.GetProperty("assembliesLoaded").GetDouble(), 1e-9);
        var app = profile.GetProperty("topAssemblies")[0];
        Assert.Equal(("App", 3, 60.0, 20.0), (app.GetProperty("name").GetString(), app.GetProperty("coldStarts").GetInt32(), app.GetProperty("totalMs").GetDouble(), app.GetProperty("meanMs").GetDouble()));
        Assert.Equal(["App", "Npgsql", "System.Private.CoreLib"], profile.GetProperty("topAssemblies").EnumerateArray().Select(a => a.GetProperty("name").GetString()!).ToArray());
        Assert.Equal(["App.Program.Main", "Npgsql.Connect"], profile.GetProperty("topMethods").EnumerateArray().Select(a => a.GetProperty("name").GetString()!).ToArray());
        Assert.Equal(7.0, profile.GetProperty("topMethods")[0].GetProperty("meanMs").GetDouble());

        // The series: four buckets of 15 minutes; a span belongs to the bucket of its start.
        var series = item.GetProperty("series");
        Assert.Equal(900, series.GetProperty("bucketSeconds").GetDouble());
        var points = series.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(Buckets, points.Count);
        for (var b = 0; b < Buckets; b++)
        {
            var inBucket = warm.Select(w => (w.Minute, w.Ms, w.Weight, Cold: false)).Concat(users.Select(c => (c.Minute, c.Ms, Weight: 1.0, Cold: true)))
                .Where(a => a.Minute / 15 == b).ToList();
            var point = points[b];
            Assert.Equal(t0.AddMinutes(15 * b), point.GetProperty("start").GetDateTime().ToUniversalTime());
            Assert.Equal(inBucket.Sum(a => a.Weight), point.GetProperty("invocations").GetDouble());
            Assert.Equal(inBucket.Count(a => a.Cold), point.GetProperty("coldStarts").GetDouble());
            Assert.Equal(inBucket.Count(a => a.Cold) / inBucket.Sum(a => a.Weight), point.GetProperty("coldStartRate").GetDouble(), 1e-12);
            Assert.Equal(WeightedPercentile(inBucket.Select(a => (a.Ms, a.Weight)), 0.95), point.GetProperty("latencyP95Ms").GetDouble(), 1e-6);
            var inits = colds.Where(c => c.Minute / 15 == b).Select(c => c.Init).ToList();
            Assert.Equal(Percentile(inits, 0.95), point.GetProperty("initP95Ms").GetDouble(), 1e-6);
        }
    }

    [Fact]
    public async Task The_init_histogram_counts_init_durations_in_the_init_metrics_buckets_by_adjusted_count()
    {
        var t0 = Minute(DateTime.UtcNow.AddMinutes(-50));

        // Init durations: below the first bound, on bounds (a duration equal to a bound belongs to it, as with
        // Prometheus's le), just above bounds, past the last bound, and a record standing for 3.
        var inits = new (double Ms, double Weight)[] { (8, 1), (10, 1), (10.5, 1), (300, 1), (500, 1), (500.5, 3), (2600, 1), (30_000, 1), (31_000, 1) };
        var spans = new List<Span>();
        for (var i = 0; i < inits.Length; i++)
        {
            var invocation = Invocation(t0.AddMinutes(i), inits[i].Ms + 50, cold: true);
            var record = ColdStartRecord(invocation, 5, inits[i].Ms, null, 20);
            if (inits[i].Weight != 1)
            {
                record.Single(s => s.Name == "coldstart.init").Attributes.Add(new OpenTelemetry.Proto.Common.V1.KeyValue
                {
                    Key = "obs.sampling.adjusted_count",
                    Value = new OpenTelemetry.Proto.Common.V1.AnyValue { DoubleValue = inits[i].Weight },
                });
            }

            spans.Add(invocation);
            spans.AddRange(record);
        }

        var before = Invocation(t0.AddMinutes(-5), 120, cold: true); // out of the range: in no bucket
        spans.Add(before);
        spans.AddRange(ColdStartRecord(before, 5, 100, null, 20));
        await IngestAsync(Export("cs-hist", "1", [.. spans]));

        var page = await _collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/coldstarts?function=cs-hist&start={Iso(t0)}&end={Iso(t0.AddHours(1))}");
        var buckets = Assert.Single(page.GetProperty("items").EnumerateArray()).GetProperty("initHistogram").EnumerateArray().ToList();

        // The bounds of faas_init_duration_seconds, as docs/collector.md gives them, in milliseconds; then one bucket above the last.
        double[] bounds = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];
        Assert.Equal(bounds.Length + 1, buckets.Count);
        for (var b = 0; b <= bounds.Length; b++)
        {
            var lower = b == 0 ? double.NegativeInfinity : bounds[b - 1];
            var upper = b == bounds.Length ? double.PositiveInfinity : bounds[b];
            // The last bucket has no bound: its leMs is left out, like every null of the API.
            Assert.Equal(b == bounds.Length ? null : (double?)bounds[b], buckets[b].TryGetProperty("leMs", out var le) ? le.GetDouble() : null);
            Assert.Equal(inits.Where(x => x.Ms > lower && x.Ms <= upper).Sum(x => x.Weight), buckets[b].GetProperty("count").GetDouble());
        }

        // The same by hand: 8 and 10 ≤ 10; 10.5 ≤ 25; 300 and 500 ≤ 500; 500.5 (standing for 3) ≤ 1000; 2600 ≤ 5000;
        // 30000 ≤ 30000; 31000 above; the record before the range (100 ms) in none.
        Assert.Equal([2.0, 1, 0, 0, 0, 2, 3, 0, 1, 0, 1, 1], buckets.Select(b => b.GetProperty("count").GetDouble()).ToArray());
    }

    [Fact]
    public async Task Versions_are_listed_apart_and_bad_parameters_get_400()
    {
        var t0 = Minute(DateTime.UtcNow.AddMinutes(-30));
        await IngestAsync(Export("cs-two", "1", Invocation(t0, 5, cold: true), Invocation(t0.AddMinutes(1), 5)));
        await IngestAsync(Export("cs-two", "2", Invocation(t0, 5)));

        var page = await _collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/coldstarts?function=cs-two&limit=1");
        var first = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal(("1", 0.5), (first.GetProperty("version").GetString(), first.GetProperty("coldStartRate").GetDouble()));
        var next = await _collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/coldstarts?function=cs-two&limit=1&cursor=" + Uri.EscapeDataString(page.GetProperty("next").GetString()!));
        var second = Assert.Single(next.GetProperty("items").EnumerateArray());
        Assert.Equal(("2", 0.0), (second.GetProperty("version").GetString(), second.GetProperty("coldStartRate").GetDouble()));
        Assert.Equal(JsonValueKind.Null, next.GetProperty("next").ValueKind);

        foreach (var (query, reason) in new[] { ("buckets=0", "buckets"), ("buckets=x", "buckets"), ("cursor=x", "cursor"), ("end=2020-01-01T00:00:00Z&start=2020-01-02T00:00:00Z", "before") })
        {
            using var response = await _collector.Query.GetAsync("/api/v1/coldstarts?" + query);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(reason, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString(), StringComparison.Ordinal);
        }
    }

    private async Task IngestAsync(OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest request)
    {
        using var response = await _collector.Ingest.PostAsync("/v1/traces", Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
