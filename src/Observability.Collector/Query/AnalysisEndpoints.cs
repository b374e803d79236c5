using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Observability.Collector.Query;

/// <summary>The analysis API under /api/v1 (docs/collector.md): functions, cold starts, version comparison, failure groups.</summary>
internal static class AnalysisEndpoints
{
    public static void MapAnalysisApi(this RouteGroupBuilder api, TimeProvider time, QueryLimits limits)
    {
        var dataSource = api.ServiceProvider().GetRequiredKeyedService<NpgsqlDataSource>(QueryDatabase.Key);
        var functions = new FunctionOverviewStore(dataSource);
        var coldStarts = new ColdStartStore(dataSource);

        api.MapGet("/functions", async (HttpRequest request, CancellationToken ct) =>
        {
            var q = request.Query;
            var now = time.GetUtcNow().UtcDateTime;
            var (start, end) = Range(q, TimeSpan.FromHours(1), now, limits);
            var (items, next) = await functions.PageAsync(start, end, now, PageCursor.Decode(q["cursor"], 2), QueryParsing.Limit(q["limit"], limits), ct);
            return Results.Ok(new ApiList<ApiFunctionOverview>(items, next));
        });

        api.MapGet("/coldstarts", async (HttpRequest request, CancellationToken ct) =>
        {
            var q = request.Query;
            var (start, end) = Range(q, TimeSpan.FromHours(1), time.GetUtcNow().UtcDateTime, limits);
            var (items, next) = await coldStarts.PageAsync(
                ApiEndpoints.NullIfEmpty(q["function"]), ApiEndpoints.NullIfEmpty(q["version"]), start, end,
                Buckets(q["buckets"]), PageCursor.Decode(q["cursor"], 2), QueryParsing.Limit(q["limit"], limits), ct);
            return Results.Ok(new ApiList<ApiColdStarts>(items, next));
        });
    }

    public const int DefaultBuckets = 24;
    public const int MaxBuckets = 500;

    /// <summary>How many buckets a time series has: the default when absent, refused outside 1 to <see cref="MaxBuckets"/>.</summary>
    internal static int Buckets(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return DefaultBuckets;
        }

        return int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var buckets) && buckets is > 0 and <= MaxBuckets
            ? buckets
            : throw new QueryException($"buckets=\"{value}\" must be a whole number from 1 to {MaxBuckets}");
    }

    internal static (DateTime Start, DateTime End) Range(IQueryCollection q, TimeSpan lookback, DateTime now, QueryLimits limits) =>
        QueryParsing.TimeRange(QueryParsing.Time(q["start"], "start"), QueryParsing.Time(q["end"], "end"), lookback, now, limits);

    private static IServiceProvider ServiceProvider(this IEndpointRouteBuilder builder) => builder.ServiceProvider;
}
