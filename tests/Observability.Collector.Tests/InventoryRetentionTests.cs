using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Observability.Collector.Storage;
using Observability.Testing;
using static Observability.Testing.OtlpFactory;
using OtlpSpan = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Collector.Tests;

/// <summary>The inventory (functions, instances, operations) forgets what retention dropped, and only that.</summary>
public sealed class InventoryRetentionTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Functions_instances_and_operations_not_seen_within_the_retention_go_with_the_dropped_partitions()
    {
        static OtlpSpan At(OtlpSpan span, DateTime start)
        {
            span.StartTimeUnixNano = Nanos(start);
            span.EndTimeUnixNano = Nanos(start.AddMilliseconds(20));
            return span;
        }

        var nineDaysAgo = DateTime.UtcNow.AddDays(-9);
        // A collector keeping 30 days takes the old spans in; one keeping 7 then runs its retention pass at start,
        // as a collector does when the days go by (or when the retention is lowered).
        await using (var keeping = await CollectorRunner.StartAsync(database.ConnectionString, o => o.RetentionDays = 30))
        {
            foreach (var request in new[]
            {
                Traces("gone-svc", "gone-fn", At(Span("GET /old", attributes: Attr("faas.trigger", "http")), nineDaysAgo)),
                Traces("kept-svc", "kept-fn", At(Span("GET /both", attributes: Attr("faas.trigger", "http")), nineDaysAgo), Span("GET /both", attributes: Attr("faas.trigger", "http"))),
                Traces("kept-svc", "kept-fn", At(Span("GET /stale", kind: OtlpSpan.Types.SpanKind.Client), nineDaysAgo)),
            })
            {
                using var response = await keeping.Ingest.PostAsync("/v1/traces", Protobuf(request));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            Assert.Equal(3, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM operations WHERE service_name IN ('gone-svc', 'kept-svc')"));
            Assert.Equal(2, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM functions WHERE function_name IN ('gone-fn', 'kept-fn')"));
        }

        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString, o => o.RetentionDays = 7);
        await collector.Services.GetServices<IHostedService>().OfType<RetentionService>().Single().FirstPass.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM spans WHERE start_time < now() - interval '8 days'"));
        Assert.Equal(0, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM functions WHERE function_name = 'gone-fn'"));
        Assert.Equal(0, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM function_instances WHERE function_name = 'gone-fn'"));
        Assert.Equal(0, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM operations WHERE service_name = 'gone-svc' OR span_name = 'GET /stale'"));

        var services = await collector.Query.GetFromJsonAsync<JsonElement>("/jaeger/api/services");
        Assert.DoesNotContain("gone-svc", services.GetProperty("data").EnumerateArray().Select(s => s.GetString()));
        Assert.Contains("kept-svc", services.GetProperty("data").EnumerateArray().Select(s => s.GetString()));
        var operations = await collector.Query.GetFromJsonAsync<JsonElement>("/jaeger/api/services/kept-svc/operations");
        Assert.Equal(["GET /both"], operations.GetProperty("data").EnumerateArray().Select(s => s.GetString()!).ToArray());
        var functions = await collector.Query.GetFromJsonAsync<JsonElement>("/api/v1/functions");
        var names = functions.GetProperty("items").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        Assert.DoesNotContain("gone-fn", names);
        var kept = functions.GetProperty("items").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "kept-fn");
        Assert.Equal("kept-fn-0", Assert.Single(kept.GetProperty("instances").EnumerateArray()).GetString());
    }
}
