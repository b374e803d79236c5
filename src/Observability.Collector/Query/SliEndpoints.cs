using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Observability.Core.Model;

namespace Observability.Collector.Query;

/// <summary>
/// GET /api/v1/slis: a function's good and total invocations over several windows ending at one time, counted
/// from the stored SERVER spans as the faas_* metrics count them (adjusted counts, warm-up pings left out), so
/// that <c>obs slo status</c> computes error budgets and burn rates with no Prometheus.
/// </summary>
internal static partial class SliEndpoints
{
    /// <summary>The windows asked for when none are given: the burn-rate alerts' and the default SLO window.</summary>
    public const string DefaultWindows = "5m,30m,1h,2h,6h,1d,3d,30d";

    private const int MaxWindows = 16;
    private static readonly TimeSpan MaxWindow = TimeSpan.FromDays(31);

    public static IEndpointConventionBuilder MapSliApi(this IEndpointRouteBuilder app, TimeProvider time) =>
        app.MapGet("/api/v1/slis", async (HttpRequest request, [FromKeyedServices(QueryDatabase.Key)] NpgsqlDataSource db, CancellationToken ct) =>
        {
            var q = request.Query;
            var function = ApiEndpoints.NullIfEmpty(q["function"]) ?? throw new QueryException("function is required: the function's name (faas.name)");
            var sli = ApiEndpoints.NullIfEmpty(q["sli"]) ?? "availability";
            long? thresholdNanos = sli switch
            {
                "availability" => ApiEndpoints.NullIfEmpty(q["threshold"]) is null ? null : throw new QueryException("threshold applies to sli=latency only"),
                "latency" => ThresholdNanos(q["threshold"]),
                _ => throw new QueryException($"sli=\"{sli}\" is not an SLI: use availability or latency"),
            };
            var windows = Windows(ApiEndpoints.NullIfEmpty(q["windows"]) ?? DefaultWindows);
            var end = QueryParsing.Time(q["end"], "end") ?? time.GetUtcNow().UtcDateTime;
            if (end < DateTime.UnixEpoch + windows.Max(w => w.Length))
            {
                throw new QueryException($"end ({end:O}) is too early: the longest window would start before 1970");
            }

            var (earliest, counts) = await CountAsync(db, function, thresholdNanos, windows, end, ct);
            return Results.Ok(new ApiSlis(
                function,
                sli,
                thresholdNanos is { } ns ? ns / 1e9 : null,
                end,
                earliest,
                windows.Select((w, i) => new ApiSliWindow(w.Text, end - w.Length, end, counts[i].Total, counts[i].Good)).ToList()));
        });

    private static async Task<(DateTime? Earliest, (double Total, double Good)[] Counts)> CountAsync(
        NpgsqlDataSource db, string function, long? thresholdNanos, IReadOnlyList<SliWindow> windows, DateTime end, CancellationToken ct)
    {
        // As FunctionMetrics counts: an error is status ERROR; a slow invocation is one over the bucket boundary
        // (Prometheus' le is "less than or equal").
        var good = thresholdNanos is null ? $"status_code <> {SpanStatus.Error}" : "duration_ns <= @threshold";
        var sql = new StringBuilder("SELECT min(start_time)");
        await using var cmd = db.CreateCommand();
        for (var i = 0; i < windows.Count; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $", coalesce(sum(adjusted_count) FILTER (WHERE start_time > @s{i}), 0)");
            sql.Append(CultureInfo.InvariantCulture, $", coalesce(sum(adjusted_count) FILTER (WHERE start_time > @s{i} AND {good}), 0)");
            cmd.Parameters.AddWithValue($"s{i}", end - windows[i].Length);
        }

        sql.Append(CultureInfo.InvariantCulture, $"""
             FROM spans
            WHERE function_name = @function AND kind = {SpanKinds.Server} AND NOT warmup
              AND start_time > @from AND start_time <= @end
            """);
        cmd.CommandText = sql.ToString();
        cmd.Parameters.AddWithValue("function", function);
        cmd.Parameters.AddWithValue("from", end - windows.Max(w => w.Length));
        cmd.Parameters.AddWithValue("end", end);
        if (thresholdNanos is { } threshold)
        {
            cmd.Parameters.AddWithValue("threshold", threshold);
        }

        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var counts = new (double, double)[windows.Count];
        for (var i = 0; i < windows.Count; i++)
        {
            counts[i] = (reader.GetDouble(1 + (2 * i)), reader.GetDouble(2 + (2 * i)));
        }

        return (reader.IsDBNull(0) ? null : reader.GetDateTime(0), counts);
    }

    private static long ThresholdNanos(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new QueryException("threshold is required with sli=latency: the seconds an invocation may take and still be good, such as 0.5");
        }

        return decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds <= 3600
            ? (long)(seconds * 1_000_000_000m)
            : throw new QueryException($"threshold=\"{value}\" is not a number of seconds above 0 and at most 3600, such as 0.5");
    }

    /// <summary>Prometheus-style durations (5m, 1h, 3d, 1w), comma-separated.</summary>
    private static List<SliWindow> Windows(string value)
    {
        var windows = new List<SliWindow>();
        foreach (var text in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var m = WindowPattern().Match(text);
            var length = m.Success
                ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * m.Groups[2].Value switch
                {
                    "s" => TimeSpan.FromSeconds(1),
                    "m" => TimeSpan.FromMinutes(1),
                    "h" => TimeSpan.FromHours(1),
                    "d" => TimeSpan.FromDays(1),
                    _ => TimeSpan.FromDays(7),
                }
                : TimeSpan.Zero;
            if (length < TimeSpan.FromMinutes(1) || length > MaxWindow)
            {
                throw new QueryException($"windows: \"{text}\" is not a window from 1m to 31d: use forms like 5m, 1h, 3d, 30d");
            }

            windows.Add(new SliWindow(text, length));
        }

        return windows.Count is > 0 and <= MaxWindows
            ? windows
            : throw new QueryException($"windows=\"{value}\" must list 1 to {MaxWindows} windows, such as {DefaultWindows}");
    }

    [GeneratedRegex(@"^(\d{1,4})(s|m|h|d|w)$")]
    private static partial Regex WindowPattern();

    private sealed record SliWindow(string Text, TimeSpan Length);
}

/// <summary>
/// A function's SLI counts: good and total invocations (adjusted counts) per window, each ending at End. Earliest is
/// the oldest invocation in the longest window: before it the store holds nothing (retention, or no traffic yet).
/// </summary>
public sealed record ApiSlis(string Function, string Sli, double? ThresholdSeconds, DateTime End, DateTime? Earliest, IReadOnlyList<ApiSliWindow> Items);

public sealed record ApiSliWindow(string Window, DateTime Start, DateTime End, double Total, double Good);
