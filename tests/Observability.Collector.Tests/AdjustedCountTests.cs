using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Observability.Otlp.Sampling;
using Observability.Testing;
using static Observability.Testing.OtlpFactory;
using OtlpSpan = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Collector.Tests;

/// <summary>
/// Spans from any OpenTelemetry SDK that sampled them count for what they stand for: the adjusted-count attribute,
/// else the tracestate's th, else 1. The RED metrics and the function inventory add these up.
/// </summary>
public sealed class AdjustedCountTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task Sampled_spans_count_by_their_threshold_and_kept_failures_count_once()
    {
        OtlpSpan Invocation(string? traceState, params OpenTelemetry.Proto.Common.V1.KeyValue[] extra)
        {
            var span = Span("GET /x", duration: TimeSpan.FromMilliseconds(2), attributes: [Attr("faas.trigger", "http"), .. extra]);
            span.TraceState = traceState ?? string.Empty;
            return span;
        }

        var tenth = ProbabilitySampling.AdjustedCount(ProbabilitySampling.ThresholdOf(0.1)!.Value); // th:e666, 9.9994
        var keptFailure = Invocation("ot=th:c", new OpenTelemetry.Proto.Common.V1.KeyValue { Key = "obs.sampling.adjusted_count", Value = new() { DoubleValue = 1 } });
        keptFailure.Status = new OpenTelemetry.Proto.Trace.V1.Status { Code = OpenTelemetry.Proto.Trace.V1.Status.Types.StatusCode.Error };
        var request = Traces("counted-svc", "counted", [
            Invocation("ot=th:c"), Invocation("vendor=1,ot=th:c"), Invocation("ot=th:c;rv:00000000000001"), // 4 each
            keptFailure,                                                                                      // 1
            Invocation("ot=th:e666"), Invocation("ot=th:e666"), Invocation("ot=th:e666"), Invocation("ot=th:e666"), // 9.9994 each
            Invocation(null),                                                                                 // 1
            Invocation("ot=th:8", Attr("obs.warmup", true))]);                                               // a ping standing for 2
        using var response = await _collector.Ingest.PostAsync("/v1/traces", Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var expected = (3 * 4) + 1 + (4 * tenth) + 1;
        var metrics = await _collector.Query.GetStringAsync("/metrics");
        const string Labels = "{function=\"counted\",version=\"1\",trigger=\"http\"}";
        Assert.Equal(expected, MetricsText.Value(metrics, "faas_invocations_total" + Labels), 1e-9);
        Assert.Equal(1, MetricsText.Value(metrics, "faas_errors_total" + Labels));
        Assert.Equal(2, MetricsText.Value(metrics, "obs_warmup_invocations_total" + Labels));
        // Whole observations only: the fractions are carried, so the count is the sum less what is still carried (< 1).
        Assert.Equal(Math.Floor(expected), MetricsText.Value(metrics, "faas_invoke_duration_seconds_count" + Labels));
        Assert.Equal(Math.Floor(expected), MetricsText.Value(metrics, "faas_invoke_duration_seconds_bucket{function=\"counted\",version=\"1\",trigger=\"http\",le=\"0.005\"}"));

        Assert.Equal(expected, await Sql.ScalarAsync<double>(database.ConnectionString, "SELECT invocations FROM functions WHERE function_name = 'counted'"), 1e-9);
        Assert.Equal(expected, await Sql.ScalarAsync<double>(database.ConnectionString, "SELECT sum(adjusted_count) FROM spans WHERE function_name = 'counted' AND NOT warmup"), 1e-9);
        var functions = await _collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/functions");
        var fn = functions.GetProperty("items").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "counted");
        Assert.Equal(((long)Math.Round(expected), 1L, 2L), (fn.GetProperty("invocations").GetInt64(), fn.GetProperty("errors").GetInt64(), fn.GetProperty("warmUps").GetInt64()));
    }
}
