using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Observability.Collector.Configuration;

namespace Observability.Collector.Query;

/// <summary>The query API under /api/v1: traces by id and by search, failure snapshots, services, functions.</summary>
internal static class ApiEndpoints
{
    public static RouteGroupBuilder MapQueryApi(this IEndpointRouteBuilder app, TimeProvider time)
    {
        var api = app.MapGroup("/api/v1");
        var limits = QueryLimits.From(app.ServiceProvider.GetRequiredService<IOptions<CollectorOptions>>().Value);

        api.MapGet("/traces/{traceId}", async (string traceId, TraceStore store, CancellationToken ct) =>
        {
            var spans = await store.GetTraceAsync(QueryParsing.TraceId(traceId), ct);
            return spans.Count == 0
                ? Results.NotFound(new { error = $"no trace {traceId}" })
                : Results.Ok(ApiMapping.ToTrace(spans));
        });

        api.MapGet("/traces", async (HttpRequest request, TraceStore store, CancellationToken ct) =>
        {
            var q = request.Query;
            var (start, end) = QueryParsing.TimeRange(
                QueryParsing.Time(q["start"], "start"), QueryParsing.Time(q["end"], "end"), TimeSpan.FromHours(1), time.GetUtcNow().UtcDateTime, limits);
            var query = new TraceQuery
            {
                Start = start,
                End = end,
                Service = NullIfEmpty(q["service"]),
                Function = NullIfEmpty(q["function"]),
                SpanName = NullIfEmpty(q["name"]),
                MinDurationNanos = QueryParsing.DurationNanos(q["minDuration"], "minDuration"),
                MaxDurationNanos = QueryParsing.DurationNanos(q["maxDuration"], "maxDuration"),
                ErrorsOnly = string.Equals(q["errors"], "true", StringComparison.OrdinalIgnoreCase),
                Attributes = QueryParsing.Attributes(
                    q.Where(kv => kv.Key.StartsWith(AttributePrefix, StringComparison.Ordinal))
                        .Select(kv => KeyValuePair.Create(kv.Key[AttributePrefix.Length..], kv.Value.ToArray())),
                    "attr.KEY=VALUE"),
                Limit = QueryParsing.Limit(q["limit"], limits),
                After = TraceSearchKey.FromCursor(q["cursor"]),
            };
            var (found, next) = await store.SearchPageAsync(query, ct);
            return Results.Ok(new ApiList<ApiTraceSummary>(
                found.Select(t => new ApiTraceSummary(
                    ApiMapping.Hex(t.TraceId), t.RootService, t.RootName, t.StartTime, t.DurationNanos, t.SpanCount, t.ErrorCount, t.Services)).ToList(),
                next?.ToCursor()));
        });

        api.MapGet("/services", async (TraceStore store, CancellationToken ct) =>
            Results.Ok(new ApiList<ServiceInfo>(await store.ServicesAsync(ct))));

        api.MapGet("/services/{service}/operations", async (string service, TraceStore store, CancellationToken ct) =>
            Results.Ok(new ApiList<object>((await store.OperationsAsync(service, ct)).Select(o => (object)new { o.Name, Kind = ApiMapping.KindName(o.Kind) }).ToList())));

        api.MapGet("/snapshots", async (HttpRequest request, SnapshotStore store, CancellationToken ct) =>
        {
            var q = request.Query;
            var (start, end) = QueryParsing.TimeRange(
                QueryParsing.Time(q["start"], "start"), QueryParsing.Time(q["end"], "end"), TimeSpan.FromHours(1), time.GetUtcNow().UtcDateTime, limits);
            var traceId = NullIfEmpty(q["traceId"]) is { } id ? QueryParsing.TraceId(id) : null;
            var found = await store.FindAsync(start, end, NullIfEmpty(q["function"]), traceId, QueryParsing.Limit(q["limit"], limits), ct);
            return Results.Ok(new ApiList<StoredSnapshot>(found));
        });

        api.MapAnalysisApi(time, limits);
        return api;
    }

    private const string AttributePrefix = "attr.";

    internal static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
