using System.Globalization;
using System.Text.RegularExpressions;

namespace Observability.Collector.Query;

/// <summary>Parses query-string values; every failure names the parameter and the expected form.</summary>
internal static partial class QueryParsing
{
    /// <summary>Go/Jaeger durations: 250ms, 1.5s, 2m, 1h, 300us, 100ns; or a bare number of milliseconds.</summary>
    public static long? DurationNanos(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
        {
            return (long)(ms * 1e6);
        }

        var match = DurationPattern().Match(value.Trim());
        if (!match.Success)
        {
            throw new QueryException($"{name}=\"{value}\" is not a duration: use forms like 250ms, 1.5s, 2m or 300us");
        }

        long total = 0;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var m = PartPattern().Match(part.Value);
            var number = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += (long)(number * m.Groups[2].Value switch
            {
                "ns" => 1,
                "us" or "µs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                _ => 3600e9,
            });
        }

        return total;
    }

    /// <summary>RFC 3339 times, or numbers of microseconds since the epoch (what Jaeger sends).</summary>
    public static DateTime? Time(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var micros))
        {
            return micros >= 0 && micros <= MaxMicros
                ? DateTime.UnixEpoch.AddTicks(micros * 10)
                : throw new QueryException($"{name}=\"{value}\" is out of range: microseconds since the epoch, from 0 to {MaxMicros}");
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.UtcDateTime
            : throw new QueryException($"{name}=\"{value}\" is not a time: use RFC 3339 (2026-11-23T10:00:00Z) or microseconds since the epoch");
    }

    /// <summary>The search's limit: the default when absent, refused when outside 1 to the maximum.</summary>
    public static int Limit(string? value, QueryLimits limits)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return Math.Min(limits.DefaultLimit, limits.MaxLimit);
        }

        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var limit) && limit > 0 && limit <= limits.MaxLimit
            ? limit
            : throw new QueryException($"limit=\"{value}\" must be a whole number from 1 to {limits.MaxLimit}");
    }

    /// <summary>
    /// The range a search covers: end defaults to now, start to <paramref name="lookback"/> before end. Refused
    /// when start is not before end or the range is longer than the maximum: a scan of every partition is what
    /// the statement timeout would otherwise cut short.
    /// </summary>
    public static (DateTime Start, DateTime End) TimeRange(DateTime? start, DateTime? end, TimeSpan lookback, DateTime now, QueryLimits limits)
    {
        var to = end ?? now;
        var from = start ?? (to - DateTime.MinValue > lookback ? to - lookback : DateTime.MinValue);
        if (from >= to)
        {
            throw new QueryException($"start ({from:O}) must be before end ({to:O})");
        }

        return to - from <= limits.MaxRange
            ? (from, to)
            : throw new QueryException(
                $"the time range from {from:O} to {to:O} is longer than the maximum of {Describe(limits.MaxRange)} (Collector:MaxQueryRange): narrow it");
    }

    /// <summary>Attribute filters: non-empty keys, each given once, at most <see cref="MaxAttributeFilters"/>.</summary>
    public static Dictionary<string, string> Attributes(IEnumerable<KeyValuePair<string, string?[]>> filters, string form)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, values) in filters)
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                throw new QueryException($"an attribute filter has an empty key: use {form}");
            }

            if (values.Length != 1 || values[0] is null)
            {
                throw new QueryException($"attribute \"{key}\" is filtered {values.Length} times: give each attribute once");
            }

            if (!result.TryAdd(key, values[0]!))
            {
                throw new QueryException($"attribute \"{key}\" is filtered twice: give each attribute once");
            }
        }

        return result.Count <= MaxAttributeFilters
            ? result
            : throw new QueryException($"{result.Count} attribute filters: at most {MaxAttributeFilters}");
    }

    public const int MaxAttributeFilters = 16;

    private static readonly long MaxMicros = (DateTime.MaxValue - DateTime.UnixEpoch).Ticks / 10;

    private static string Describe(TimeSpan span) =>
        span.TotalDays >= 1 && span.Ticks % TimeSpan.TicksPerDay == 0 ? $"{span.TotalDays:0} days"
        : span.TotalHours >= 1 && span.Ticks % TimeSpan.TicksPerHour == 0 ? $"{span.TotalHours:0} hours"
        : span.ToString("c", CultureInfo.InvariantCulture);

    public static byte[] TraceId(string value)
    {
        var bytes = new byte[16];
        return value.Length == 32 && Convert.FromHexString(value, bytes, out _, out _) == System.Buffers.OperationStatus.Done
            ? bytes
            : throw new QueryException($"\"{value}\" is not a trace id: 32 hex digits");
    }

    [GeneratedRegex(@"^(?<part>[0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")]
    private static partial Regex PartPattern();
}

/// <summary>A bad query parameter: answered with 400 and this message.</summary>
internal sealed class QueryException(string message) : Exception(message);

/// <summary>The query guards from the settings: the longest time range and the default and largest limit.</summary>
internal sealed record QueryLimits(TimeSpan MaxRange, int DefaultLimit, int MaxLimit)
{
    public static QueryLimits From(Configuration.CollectorOptions options) => new(options.MaxQueryRange, options.DefaultQueryLimit, options.MaxQueryLimit);
}
