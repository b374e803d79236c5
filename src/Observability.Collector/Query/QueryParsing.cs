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
            return DateTime.UnixEpoch.AddTicks(micros * 10);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.UtcDateTime
            : throw new QueryException($"{name}=\"{value}\" is not a time: use RFC 3339 (2026-11-23T10:00:00Z) or microseconds since the epoch");
    }

    public static int Limit(string? value, int fallback)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var limit) && limit > 0
            ? Math.Min(limit, 1000)
            : throw new QueryException($"limit=\"{value}\" must be a whole number from 1 to 1000");
    }

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
