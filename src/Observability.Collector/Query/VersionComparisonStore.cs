using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Observability.Collector.Analysis;

namespace Observability.Collector.Query;

/// <summary>One side of a comparison: a version's cold starts in the range.</summary>
public sealed record ApiVersionColdStarts(
    string Version,
    DateTime FirstSeen,
    int Records,
    bool RecordsTruncated,
    double? InitP50Ms,
    double? InitP95Ms,
    double Invocations,
    double ColdStarts,
    double? ColdStartRate);

/// <summary>A version against another: the changes, the tests, and whether it is a regression by the documented rule.</summary>
public sealed record ApiVersionComparison(
    string Function,
    DateTime Start,
    DateTime End,
    ApiVersionColdStarts From,
    ApiVersionColdStarts To,
    double? InitP95ChangeMs,
    double? InitP95ChangeRatio,
    double? ColdStartRateChange,
    TestResult? MannWhitney,
    TestResult? TwoProportion,
    bool Regression,
    IReadOnlyList<string> Reasons,
    string Rule);

/// <summary>
/// Compares the cold starts of two versions of a function (docs/cold-start-analysis.md#version-comparison): the init
/// durations with a Mann-Whitney U test, the cold-start rates with a two-proportion z-test.
/// </summary>
public sealed class VersionComparisonStore([FromKeyedServices(QueryDatabase.Key)] NpgsqlDataSource dataSource)
{
    /// <summary>At most this many init durations per version enter the test: the newest.</summary>
    public const int MaxRecords = 100_000;

    public const double Significance = 0.05;
    public const double MaterialIncrease = 0.10;

    public const string Rule =
        "regression when the init durations differ (Mann-Whitney U, p < 0.05) and the p95 init duration rose by more than 10%, " +
        "or the cold-start rates differ (two-proportion z-test, p < 0.05) and the rate rose by more than 10% (from 0: any rise)";

    /// <summary>The comparison, or null when the function has no versions. A version not found is a bad parameter.</summary>
    public async Task<ApiVersionComparison?> CompareAsync(string function, string? from, string? to, DateTime start, DateTime end, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var versions = new List<(string Version, DateTime FirstSeen)>();
        await using (var cmd = new NpgsqlCommand("SELECT function_version, first_seen FROM functions WHERE function_name = $1 ORDER BY first_seen, function_version", conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = function, NpgsqlDbType = NpgsqlDbType.Text });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                versions.Add((reader.GetString(0), reader.GetDateTime(1)));
            }
        }

        if (versions.Count == 0)
        {
            return null;
        }

        int IndexOf(string version) => versions.FindIndex(v => v.Version == version) is var i and >= 0
            ? i
            : throw new QueryException($"function {function} has no version \"{version}\": it has {string.Join(", ", versions.Select(v => v.Version))}");
        var toIndex = to is null ? versions.Count - 1 : IndexOf(to);
        var fromIndex = from is not null ? IndexOf(from)
            : toIndex > 0 ? toIndex - 1
            : throw new QueryException($"version {versions[toIndex].Version} is the first of function {function}: give from=VERSION to compare it with");

        var a = await SideAsync(conn, function, versions[fromIndex], start, end, ct);
        var b = await SideAsync(conn, function, versions[toIndex], start, end, ct);
        var mannWhitney = SignificanceTests.MannWhitneyU(a.Inits, b.Inits);
        var twoProportion = SignificanceTests.TwoProportionZ(a.Side.ColdStarts, a.Side.Invocations, b.Side.ColdStarts, b.Side.Invocations);

        var reasons = new List<string>();
        var p95Ratio = a.Side.InitP95Ms is > 0 && b.Side.InitP95Ms is { } p95To ? (p95To / a.Side.InitP95Ms.Value) - 1 : (double?)null;
        if (mannWhitney is { PValue: < Significance } && p95Ratio > MaterialIncrease)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"p95 init duration rose {p95Ratio:P0} ({a.Side.InitP95Ms:0.#} → {b.Side.InitP95Ms:0.#} ms), Mann-Whitney p = {mannWhitney.PValue:0.####}"));
        }

        var rateRose = (a.Side.ColdStartRate, b.Side.ColdStartRate) switch
        {
            ({ } r1, { } r2) when r1 > 0 => r2 > r1 * (1 + MaterialIncrease),
            (0, { } r2) => r2 > 0,
            _ => false,
        };
        if (twoProportion is { PValue: < Significance } && rateRose)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"cold-start rate rose ({a.Side.ColdStartRate:P2} → {b.Side.ColdStartRate:P2}), two-proportion p = {twoProportion.PValue:0.####}"));
        }

        return new ApiVersionComparison(
            function,
            start,
            end,
            a.Side,
            b.Side,
            b.Side.InitP95Ms - a.Side.InitP95Ms,
            p95Ratio,
            b.Side.ColdStartRate - a.Side.ColdStartRate,
            mannWhitney,
            twoProportion,
            reasons.Count > 0,
            reasons,
            Rule);
    }

    private static async Task<(ApiVersionColdStarts Side, List<double> Inits)> SideAsync(
        NpgsqlConnection conn, string function, (string Version, DateTime FirstSeen) version, DateTime start, DateTime end, CancellationToken ct)
    {
        var samples = new List<(double Ms, double Weight)>();
        await using (var cmd = Command(conn, """
            SELECT s.duration_ns / 1e6::float8, s.adjusted_count FROM spans s
            WHERE s.function_name = $1 AND coalesce(s.function_version, '') = $2 AND s.start_time >= $3 AND s.start_time < $4
              AND s.coldstart_phase = 'init'
            ORDER BY s.start_time DESC LIMIT $5
            """, function, version.Version, start, end))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = MaxRecords + 1, NpgsqlDbType = NpgsqlDbType.Integer });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                samples.Add((reader.GetDouble(0), reader.GetDouble(1)));
            }
        }

        var truncated = samples.Count > MaxRecords;
        if (truncated)
        {
            samples.RemoveAt(samples.Count - 1);
        }

        double invocations, cold;
        await using (var cmd = Command(conn, """
            SELECT coalesce(sum(s.adjusted_count), 0), coalesce(sum(s.adjusted_count) FILTER (WHERE s.faas_coldstart), 0) FROM spans s
            WHERE s.function_name = $1 AND coalesce(s.function_version, '') = $2 AND s.start_time >= $3 AND s.start_time < $4
              AND s.kind = 2 AND NOT s.warmup
            """, function, version.Version, start, end))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (invocations, cold) = (reader.GetDouble(0), reader.GetDouble(1));
        }

        var side = new ApiVersionColdStarts(
            version.Version,
            version.FirstSeen,
            samples.Count,
            truncated,
            WeightedPercentile.Lower(samples.Select(s => (s.Ms, s.Weight)), 0.5),
            WeightedPercentile.Lower(samples.Select(s => (s.Ms, s.Weight)), 0.95),
            invocations,
            cold,
            FunctionOverviewStore.Ratio(cold, invocations));
        return (side, [.. samples.Select(s => s.Ms)]);
    }

    private static NpgsqlCommand Command(NpgsqlConnection conn, string sql, string function, string version, DateTime start, DateTime end)
    {
        var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = function, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = version, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return cmd;
    }
}
