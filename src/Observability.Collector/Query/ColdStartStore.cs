using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Observability.Collector.Analysis;
using Observability.Collector.Metrics;

namespace Observability.Collector.Query;

public sealed record ApiPercentiles(double? P50, double? P95, double? P99);

/// <summary>A phase of the cold-start record: how many records had it and its median.</summary>
public sealed record ApiPhase(string Phase, double Count, double? MedianMs);

/// <summary>What the invocation that paid for a cold start took, against a warm one.</summary>
public sealed record ApiFirstInvocation(double? ColdMedianMs, double? WarmMedianMs, double? ExtraMs);

/// <summary>What cold starts cost the tail: of the requests at or above the p99, the share that were cold, and the p99 without them.</summary>
public sealed record ApiTailCost(double? P99Ms, double RequestsAtOrAboveP99, double? ColdShareAtOrAboveP99, double? P99WithoutColdMs);

/// <summary>A bucket of the init-duration histogram: the init spans above the previous bucket's bound and at most <see cref="LeMs"/> (null: above the last bound), by adjusted count.</summary>
public sealed record ApiHistogramBucket(double? LeMs, double Count);

public sealed record ApiColdStartPoint(DateTime Start, double Invocations, double ColdStarts, double? ColdStartRate, double? InitP95Ms, double? LatencyP95Ms);

public sealed record ApiColdStartSeries(double BucketSeconds, IReadOnlyList<ApiColdStartPoint> Points);

/// <summary>The cold starts of one function version over a time range (docs/cold-start-analysis.md says what each number is).</summary>
public sealed record ApiColdStarts(
    string Name,
    string Version,
    DateTime Start,
    DateTime End,
    double Invocations,
    double ColdStarts,
    double? ColdStartRate,
    double PingColdStarts,
    double Records,
    ApiPercentiles InitMs,
    IReadOnlyList<ApiHistogramBucket> InitHistogram,
    IReadOnlyList<ApiPhase> Phases,
    ApiFirstInvocation FirstInvocation,
    ApiTailCost Tail,
    StartupProfileSummary StartupProfile,
    ApiColdStartSeries Series);

/// <summary>
/// Reads the cold starts of function versions from their invocations (SERVER spans with faas.coldstart) and from the
/// sidecar's cold-start records (a faas.coldstart span with one child per obs.coldstart.phase). Percentiles are the
/// lower weighted percentile by adjusted count (docs/collector.md#analysis-api).
/// </summary>
public sealed class ColdStartStore([FromKeyedServices(QueryDatabase.Key)] NpgsqlDataSource dataSource)
{
    /// <summary>The phases ColdStartRecorder writes, in the order they happen (runtime_start and app_init split init).</summary>
    public static readonly string[] Phases = ["spawn", "init", "runtime_start", "app_init", "first_request"];

    /// <summary>At most this many cold-start records feed the startup profile: the newest in the range.</summary>
    public const int MaxProfileRecords = 1000;

    private const string Invocations = """
        s.function_name = $1 AND coalesce(s.function_version, '') = $2 AND s.start_time >= $3 AND s.start_time < $4
        """;

    private const string PageSql = """
        SELECT f.function_name, f.function_version FROM functions f
        WHERE ($1::text IS NULL OR f.function_name = $1) AND ($2::text IS NULL OR f.function_version = $2)
          AND ($5::text IS NULL OR (f.function_name, f.function_version) > ($5::text, $6::text))
          AND EXISTS (SELECT 1 FROM spans s WHERE s.function_name = f.function_name AND coalesce(s.function_version, '') = f.function_version
                      AND s.start_time >= $3 AND s.start_time < $4 AND (s.kind = 2 OR s.coldstart_phase IS NOT NULL))
        ORDER BY f.function_name, f.function_version
        LIMIT $7
        """;

    private const string InvocationSql = $"""
        WITH inv AS (
            SELECT s.duration_ns / 1e6::float8 AS ms, s.adjusted_count AS w, coalesce(s.faas_coldstart, false) AS cold
            FROM spans s WHERE {Invocations} AND s.kind = 2 AND NOT s.warmup),
        ranked AS (
            SELECT ms, w, cold,
                   sum(w) OVER (ORDER BY ms) AS cum, sum(w) OVER () AS total,
                   sum(w) OVER (PARTITION BY cold ORDER BY ms) AS cum_by, sum(w) OVER (PARTITION BY cold) AS total_by
            FROM inv),
        p AS (
            SELECT coalesce(sum(w), 0) AS invocations, coalesce(sum(w) FILTER (WHERE cold), 0) AS cold_starts,
                   min(ms) FILTER (WHERE cum >= 0.99 * total) AS p99,
                   min(ms) FILTER (WHERE cold AND cum_by >= 0.5 * total_by) AS cold_p50,
                   min(ms) FILTER (WHERE NOT cold AND cum_by >= 0.5 * total_by) AS warm_p50,
                   min(ms) FILTER (WHERE NOT cold AND cum_by >= 0.99 * total_by) AS warm_p99
            FROM ranked)
        SELECT p.invocations, p.cold_starts, p.p99, p.cold_p50, p.warm_p50, p.warm_p99,
               coalesce((SELECT sum(w) FROM inv WHERE ms >= p.p99), 0),
               coalesce((SELECT sum(w) FROM inv WHERE ms >= p.p99 AND cold), 0),
               coalesce((SELECT sum(s.adjusted_count) FROM spans s WHERE {Invocations} AND s.kind = 2 AND s.warmup AND s.faas_coldstart), 0)
        FROM p
        """;

    private const string PhaseSql = $"""
        SELECT phase, sum(w), min(ms) FILTER (WHERE cum >= 0.5 * total), min(ms) FILTER (WHERE cum >= 0.95 * total), min(ms) FILTER (WHERE cum >= 0.99 * total)
        FROM (SELECT s.coldstart_phase AS phase, s.duration_ns / 1e6::float8 AS ms, s.adjusted_count AS w,
                     sum(s.adjusted_count) OVER (PARTITION BY s.coldstart_phase ORDER BY s.duration_ns) AS cum,
                     sum(s.adjusted_count) OVER (PARTITION BY s.coldstart_phase) AS total
              FROM spans s WHERE {Invocations} AND s.coldstart_phase IS NOT NULL) x
        GROUP BY phase
        """;

    // The bucket of an init span is the number of bounds below its duration: le semantics, as Prometheus's histogram
    // (a duration equal to a bound falls in that bound's bucket). Compared in whole nanoseconds, as stored.
    private const string InitHistogramSql = $"""
        SELECT (SELECT count(*) FROM unnest($5::bigint[]) AS bound WHERE bound < s.duration_ns)::int, sum(s.adjusted_count)
        FROM spans s WHERE {Invocations} AND s.coldstart_phase = 'init'
        GROUP BY 1
        """;

    private static readonly long[] InitBoundsNs = [.. FunctionMetrics.InitBucketBoundaries.Select(b => (long)Math.Round(b * 1e9))];

    private const string ProfileSql = $"""
        SELECT s.attributes::text FROM spans s WHERE {Invocations} AND s.name = 'faas.coldstart' AND s.parent_span_id IS NULL
        ORDER BY s.start_time DESC LIMIT $5
        """;

    // Buckets of equal width from start: bucket i covers [start + i·width, start + (i+1)·width).
    private const string Bucket = "(width_bucket(extract(epoch FROM s.start_time), $5::numeric, $6::numeric, $7) - 1)";

    private const string LatencySeriesSql = $"""
        SELECT b, sum(w), sum(w) FILTER (WHERE cold), min(ms) FILTER (WHERE cum >= 0.95 * total)
        FROM (SELECT {Bucket} AS b, s.duration_ns / 1e6::float8 AS ms, s.adjusted_count AS w, coalesce(s.faas_coldstart, false) AS cold,
                     sum(s.adjusted_count) OVER (PARTITION BY {Bucket} ORDER BY s.duration_ns) AS cum,
                     sum(s.adjusted_count) OVER (PARTITION BY {Bucket}) AS total
              FROM spans s WHERE {Invocations} AND s.kind = 2 AND NOT s.warmup) x
        GROUP BY b
        """;

    private const string InitSeriesSql = $"""
        SELECT b, min(ms) FILTER (WHERE cum >= 0.95 * total)
        FROM (SELECT {Bucket} AS b, s.duration_ns / 1e6::float8 AS ms,
                     sum(s.adjusted_count) OVER (PARTITION BY {Bucket} ORDER BY s.duration_ns) AS cum,
                     sum(s.adjusted_count) OVER (PARTITION BY {Bucket}) AS total
              FROM spans s WHERE {Invocations} AND s.coldstart_phase = 'init') x
        GROUP BY b
        """;

    /// <summary>A page of function versions with spans in the range (by name, then version), each analysed.</summary>
    public async Task<(IReadOnlyList<ApiColdStarts> Items, string? Next)> PageAsync(
        string? function, string? version, DateTime start, DateTime end, int buckets, string[]? after, int limit, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var keys = new List<(string Name, string Version)>();
        await using (var cmd = new NpgsqlCommand(PageSql, conn))
        {
            cmd.Parameters.Add(Text(function));
            cmd.Parameters.Add(Text(version));
            cmd.Parameters.Add(new NpgsqlParameter { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new NpgsqlParameter { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(Text(after?[0]));
            cmd.Parameters.Add(Text(after?[1]));
            cmd.Parameters.Add(new NpgsqlParameter { Value = limit + 1, NpgsqlDbType = NpgsqlDbType.Integer });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                keys.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        string? next = null;
        if (keys.Count > limit)
        {
            keys.RemoveAt(keys.Count - 1);
            next = PageCursor.Encode(keys[^1].Name, keys[^1].Version);
        }

        var items = new List<ApiColdStarts>(keys.Count);
        foreach (var (name, v) in keys)
        {
            items.Add(await AnalyseAsync(conn, name, v, start, end, buckets, ct));
        }

        return (items, next);
    }

    private static async Task<ApiColdStarts> AnalyseAsync(NpgsqlConnection conn, string name, string version, DateTime start, DateTime end, int buckets, CancellationToken ct)
    {
        double invocations, cold, ping, above, aboveCold;
        double? p99, coldMedian, warmMedian, warmP99;
        await using (var cmd = Command(conn, InvocationSql, name, version, start, end))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            double? Nullable(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
            (invocations, cold, p99, coldMedian, warmMedian, warmP99) = (reader.GetDouble(0), reader.GetDouble(1), Nullable(2), Nullable(3), Nullable(4), Nullable(5));
            (above, aboveCold, ping) = (reader.GetDouble(6), reader.GetDouble(7), reader.GetDouble(8));
        }

        var phases = new Dictionary<string, (double Count, double? P50, double? P95, double? P99)>(StringComparer.Ordinal);
        await using (var cmd = Command(conn, PhaseSql, name, version, start, end))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                double? Nullable(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
                phases[reader.GetString(0)] = (reader.GetDouble(1), Nullable(2), Nullable(3), Nullable(4));
            }
        }

        var profiles = new List<JsonElement>();
        await using (var cmd = Command(conn, ProfileSql, name, version, start, end))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = MaxProfileRecords, NpgsqlDbType = NpgsqlDbType.Integer });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                profiles.Add(JsonSerializer.Deserialize<JsonElement>(reader.GetString(0)));
            }
        }

        var histogram = new double[InitBoundsNs.Length + 1];
        await using (var cmd = Command(conn, InitHistogramSql, name, version, start, end))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = InitBoundsNs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                histogram[reader.GetInt32(0)] = reader.GetDouble(1);
            }
        }

        var init = phases.GetValueOrDefault("init");
        return new ApiColdStarts(
            name,
            version,
            start,
            end,
            invocations,
            cold,
            FunctionOverviewStore.Ratio(cold, invocations),
            ping,
            init.Count,
            new ApiPercentiles(init.P50, init.P95, init.P99),
            [.. histogram.Select((count, i) => new ApiHistogramBucket(i < InitBoundsNs.Length ? InitBoundsNs[i] / 1e6 : null, count))],
            [.. Phases.Where(phases.ContainsKey).Select(p => new ApiPhase(p, phases[p].Count, phases[p].P50))],
            new ApiFirstInvocation(coldMedian, warmMedian, coldMedian - warmMedian),
            new ApiTailCost(p99, above, FunctionOverviewStore.Ratio(aboveCold, above), warmP99),
            StartupProfiles.Summarise(profiles),
            await SeriesAsync(conn, name, version, start, end, buckets, ct));
    }

    private static async Task<ApiColdStartSeries> SeriesAsync(NpgsqlConnection conn, string name, string version, DateTime start, DateTime end, int buckets, CancellationToken ct)
    {
        var width = (end - start) / buckets;
        var invocations = new double[buckets];
        var cold = new double[buckets];
        var latencyP95 = new double?[buckets];
        var initP95 = new double?[buckets];
        await using (var cmd = SeriesCommand(conn, LatencySeriesSql, name, version, start, end, buckets))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var b = Math.Clamp(reader.GetInt32(0), 0, buckets - 1);
                invocations[b] = reader.GetDouble(1);
                cold[b] = reader.IsDBNull(2) ? 0 : reader.GetDouble(2);
                latencyP95[b] = reader.IsDBNull(3) ? null : reader.GetDouble(3);
            }
        }

        await using (var cmd = SeriesCommand(conn, InitSeriesSql, name, version, start, end, buckets))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                initP95[Math.Clamp(reader.GetInt32(0), 0, buckets - 1)] = reader.IsDBNull(1) ? null : reader.GetDouble(1);
            }
        }

        return new ApiColdStartSeries(
            width.TotalSeconds,
            [.. Enumerable.Range(0, buckets).Select(i => new ApiColdStartPoint(
                start + (width * i), invocations[i], cold[i], FunctionOverviewStore.Ratio(cold[i], invocations[i]), initP95[i], latencyP95[i]))]);
    }

    private static NpgsqlCommand SeriesCommand(NpgsqlConnection conn, string sql, string name, string version, DateTime start, DateTime end, int buckets)
    {
        var cmd = Command(conn, sql, name, version, start, end);
        cmd.Parameters.Add(new NpgsqlParameter { Value = EpochSeconds(start), NpgsqlDbType = NpgsqlDbType.Numeric });
        cmd.Parameters.Add(new NpgsqlParameter { Value = EpochSeconds(end), NpgsqlDbType = NpgsqlDbType.Numeric });
        cmd.Parameters.Add(new NpgsqlParameter { Value = buckets, NpgsqlDbType = NpgsqlDbType.Integer });
        return cmd;
    }

    private static decimal EpochSeconds(DateTime t) => (t - DateTime.UnixEpoch).Ticks / (decimal)TimeSpan.TicksPerSecond;

    private static NpgsqlCommand Command(NpgsqlConnection conn, string sql, string name, string version, DateTime start, DateTime end)
    {
        var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = name, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = version, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return cmd;
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
}
