using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Observability.Collector.Query;

/// <summary>The query API under /api/v1: traces by id and by search, failure snapshots, services, functions.</summary>
internal static class ApiEndpoints
{
    public static RouteGroupBuilder MapQueryApi(this IEndpointRouteBuilder app, TimeProvider time)
    {
        var api = app.MapGroup("/api/v1");

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
            var end = QueryParsing.Time(q["end"], "end") ?? time.GetUtcNow().UtcDateTime;
            var query = new TraceQuery
            {
                Start = QueryParsing.Time(q["start"], "start") ?? end.AddHours(-1),
                End = end,
                Service = NullIfEmpty(q["service"]),
                Function = NullIfEmpty(q["function"]),
                SpanName = NullIfEmpty(q["name"]),
                MinDurationNanos = QueryParsing.DurationNanos(q["minDuration"], "minDuration"),
                MaxDurationNanos = QueryParsing.DurationNanos(q["maxDuration"], "maxDuration"),
                ErrorsOnly = string.Equals(q["errors"], "true", StringComparison.OrdinalIgnoreCase),
                Attributes = q.Where(kv => kv.Key.StartsWith("attr.", StringComparison.Ordinal))
                    .ToDictionary(kv => kv.Key["attr.".Length..], kv => kv.Value.ToString()),
                Limit = QueryParsing.Limit(q["limit"], 20),
            };
            var found = await store.SearchAsync(query, ct);
            return Results.Ok(new ApiList<ApiTraceSummary>(found.Select(t => new ApiTraceSummary(
                ApiMapping.Hex(t.TraceId), t.RootService, t.RootName, t.StartTime, t.DurationNanos, t.SpanCount, t.ErrorCount, t.Services)).ToList()));
        });

        api.MapGet("/services", async (TraceStore store, CancellationToken ct) =>
            Results.Ok(new ApiList<ServiceInfo>(await store.ServicesAsync(ct))));

        api.MapGet("/services/{service}/operations", async (string service, TraceStore store, CancellationToken ct) =>
            Results.Ok(new ApiList<object>((await store.OperationsAsync(service, ct)).Select(o => (object)new { o.Name, Kind = ApiMapping.KindName(o.Kind) }).ToList())));

        api.MapGet("/snapshots", async (HttpRequest request, SnapshotStore store, CancellationToken ct) =>
        {
            var q = request.Query;
            var end = QueryParsing.Time(q["end"], "end") ?? time.GetUtcNow().UtcDateTime;
            var start = QueryParsing.Time(q["start"], "start") ?? end.AddHours(-1);
            var traceId = NullIfEmpty(q["traceId"]) is { } id ? QueryParsing.TraceId(id) : null;
            var found = await store.FindAsync(start, end, NullIfEmpty(q["function"]), traceId, QueryParsing.Limit(q["limit"], 20), ct);
            return Results.Ok(new ApiList<StoredSnapshot>(found));
        });

        api.MapGet("/functions", async (TraceStore store, CancellationToken ct) =>
            Results.Ok(new ApiList<FunctionInfo>(await store.FunctionsAsync(ct))));

        return api;
    }

    internal static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
