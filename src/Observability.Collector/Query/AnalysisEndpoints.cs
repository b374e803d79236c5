using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Observability.Collector.Storage;

namespace Observability.Collector.Query;

/// <summary>The analysis API under /api/v1 (docs/collector.md): functions, cold starts, version comparison, failure groups.</summary>
internal static class AnalysisEndpoints
{
    public static void MapAnalysisApi(this RouteGroupBuilder api, TimeProvider time, QueryLimits limits)
    {
        var dataSource = api.ServiceProvider().GetRequiredKeyedService<NpgsqlDataSource>(QueryDatabase.Key);
        var functions = new FunctionOverviewStore(dataSource);
        var coldStarts = new ColdStartStore(dataSource);
        var failures = new FailureStore(dataSource);
        var comparisons = new VersionComparisonStore(dataSource);

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

        // Versions are compared over their lifetime by default: the longest range the guard allows.
        api.MapGet("/coldstarts/compare", async (HttpRequest request, CancellationToken ct) =>
        {
            var q = request.Query;
            var function = ApiEndpoints.NullIfEmpty(q["function"]) ?? throw new QueryException("function is required: the function whose versions to compare");
            var (start, end) = Range(q, limits.MaxRange, time.GetUtcNow().UtcDateTime, limits);
            var comparison = await comparisons.CompareAsync(function, ApiEndpoints.NullIfEmpty(q["from"]), ApiEndpoints.NullIfEmpty(q["to"]), start, end, ct);
            return comparison is null
                ? Results.NotFound(new { error = $"no function {function} in the inventory" })
                : Results.Ok(comparison);
        });

        // Failures are rare: a day by default, so that a group linked from elsewhere is found without a range.
        api.MapGet("/failures", async (HttpRequest request, CancellationToken ct) =>
        {
            var q = request.Query;
            var (start, end) = Range(q, FailureLookback, time.GetUtcNow().UtcDateTime, limits);
            return Results.Ok(await failures.GroupsAsync(
                start, end, ApiEndpoints.NullIfEmpty(q["function"]), PageCursor.Decode(q["cursor"], 2), QueryParsing.Limit(q["limit"], limits), ct));
        });

        api.MapGet("/failures/{fingerprint}", async (string fingerprint, HttpRequest request, CancellationToken ct) =>
        {
            var q = request.Query;
            var (start, end) = Range(q, FailureLookback, time.GetUtcNow().UtcDateTime, limits);
            var group = await failures.GroupAsync(Fingerprint(fingerprint), start, end, PageCursor.Decode(q["cursor"], 2), QueryParsing.Limit(q["limit"], limits), ct);
            return group is null
                ? Results.NotFound(new { error = $"no failure snapshot with fingerprint {fingerprint} from {start:O} to {end:O}: widen the range (start, end)" })
                : Results.Ok(group);
        });

        api.MapGet("/snapshots/{id}", async (string id, CancellationToken ct) =>
            await failures.SnapshotAsync(SnapshotId(id), ct) is { } snapshot
                ? Results.Ok(snapshot)
                : Results.NotFound(new { error = $"no failure snapshot {id}" }));

        var dumps = api.ServiceProvider().GetRequiredService<DumpStore>();
        api.MapGet("/snapshots/{id}/dump", async (string id, HttpContext http, CancellationToken ct) =>
        {
            var snapshot = await failures.SnapshotAsync(SnapshotId(id), ct);
            var refusal = snapshot switch
            {
                null => Results.NotFound(new { error = $"no failure snapshot {id}" }),
                { Dump: null } => Results.NotFound(new { error = $"failure snapshot {id} has no dump: the sidecar writes one only for .NET functions with its DumpOnFailure setting" }),
                { Dump: { Downloadable: false } dump } => Results.NotFound(new { error = dump.Reason, dump }),
                _ => null,
            };
            if (refusal is not null)
            {
                await refusal.ExecuteAsync(http);
                return;
            }

            var held = snapshot!.Dump!;
            var size = await dumps.SizeAsync(held.Id!, ct);
            if (size is null)
            {
                // Dropped by retention between the two queries.
                await Results.NotFound(new { error = $"the dump of failure snapshot {id} is no longer held by the collector (retention)" }).ExecuteAsync(http);
                return;
            }

            http.Response.ContentType = "application/octet-stream";
            http.Response.ContentLength = size;
            http.Response.Headers.ContentDisposition = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment") { FileName = DumpFileName(held.Path, id) }.ToString();
            await dumps.CopyToAsync(held.Id!, http.Response.Body, ct);
        });
    }

    /// <summary>The name the sidecar gave the file (dump-PID-TIME-KIND.dmp), else one from the snapshot id; only safe characters either way.</summary>
    internal static string DumpFileName(string? path, string snapshotId)
    {
        var name = path is null ? null : path[(path.LastIndexOfAny(['/', '\\']) + 1)..];
        return name is { Length: > 4 and <= 128 } && name.EndsWith(".dmp", StringComparison.Ordinal) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? name
            : $"snapshot-{snapshotId}.dmp";
    }

    private static readonly TimeSpan FailureLookback = TimeSpan.FromDays(1);

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

    private static string Fingerprint(string value) =>
        value.Length == 16 && value.All(char.IsAsciiHexDigitLower)
            ? value
            : throw new QueryException($"\"{value}\" is not a failure fingerprint: 16 lower-case hex digits, as /api/v1/failures gives them");

    private static byte[] SnapshotId(string value)
    {
        var bytes = new byte[16];
        return value.Length == 32 && Convert.FromHexString(value, bytes, out _, out _) == System.Buffers.OperationStatus.Done
            ? bytes
            : throw new QueryException($"\"{value}\" is not a snapshot id: 32 hex digits, as /api/v1/failures gives them");
    }

    internal static (DateTime Start, DateTime End) Range(IQueryCollection q, TimeSpan lookback, DateTime now, QueryLimits limits) =>
        QueryParsing.TimeRange(QueryParsing.Time(q["start"], "start"), QueryParsing.Time(q["end"], "end"), lookback, now, limits);

    private static IServiceProvider ServiceProvider(this IEndpointRouteBuilder builder) => builder.ServiceProvider;
}
