using System.Globalization;
using System.Text.RegularExpressions;

namespace Observability.Cli.Terminal;

/// <summary>Numbers and times as people read them: durations in µs/ms/s/min, local times with "3 min ago".</summary>
internal static partial class Human
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A duration given in milliseconds: "850 µs", "12.3 ms", "1.25 s", "2 min 5 s"; "-" when unknown.</summary>
    public static string Milliseconds(double? ms) => ms switch
    {
        null => "-",
        < 1 => (ms.Value * 1000).ToString("0", Invariant) + " µs",
        < 10 => ms.Value.ToString("0.##", Invariant) + " ms",
        < 1000 => ms.Value.ToString("0.#", Invariant) + " ms",
        < 60_000 => (ms.Value / 1000).ToString("0.##", Invariant) + " s",
        _ => Seconds(ms.Value / 1000),
    };

    public static string Nanoseconds(long nanos) => Milliseconds(nanos / 1e6);

    /// <summary>A long span of seconds: "45 s", "12 min", "3 h 20 min", "2 d 4 h".</summary>
    public static string Seconds(double? seconds)
    {
        if (seconds is not { } s)
        {
            return "-";
        }

        var t = TimeSpan.FromSeconds(s);
        return t.TotalSeconds < 60 ? $"{t.TotalSeconds.ToString("0", Invariant)} s"
            : t.TotalMinutes < 60 ? (t.Seconds == 0 || t.TotalMinutes >= 10 ? $"{t.Minutes} min" : $"{t.Minutes} min {t.Seconds} s")
            : t.TotalHours < 24 ? (t.Minutes == 0 ? $"{(int)t.TotalHours} h" : $"{(int)t.TotalHours} h {t.Minutes} min")
            : t.Hours == 0 ? $"{t.Days} d" : $"{t.Days} d {t.Hours} h";
    }

    /// <summary>How long ago: "just now", "3 min ago", "2 h ago"; "in 5 s" for a clock ahead of ours.</summary>
    public static string Ago(DateTime utc, DateTime now)
    {
        var elapsed = now - utc;
        return elapsed.TotalSeconds switch
        {
            < -1 => "in " + Seconds(-elapsed.TotalSeconds),
            < 1 => "just now",
            _ => Seconds(elapsed.TotalSeconds) + " ago",
        };
    }

    /// <summary>A UTC time as this machine's local time, with how long ago: "2026-12-01 18:20:11 (3 min ago)".</summary>
    public static string When(DateTime? utc, DateTime now) =>
        utc is { } t ? $"{t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Invariant)} ({Ago(t, now)})" : "-";

    /// <summary>A compact <see cref="When"/> for tables: the local time of day when it is today here, with how long ago.</summary>
    public static string Short(DateTime? utc, DateTime now)
    {
        if (utc is not { } t)
        {
            return "-";
        }

        var local = t.ToLocalTime();
        var format = local.Date == now.ToLocalTime().Date ? "HH:mm:ss" : "yyyy-MM-dd HH:mm";
        return $"{local.ToString(format, Invariant)} ({Ago(t, now)})";
    }

    public static string Percent(double? ratio) => ratio is { } r ? (r * 100).ToString("0.##", Invariant) + "%" : "-";

    public static string Count(double value) => value.ToString(value == Math.Floor(value) ? "#,0" : "#,0.##", Invariant);

    /// <summary>A look-back like 30s, 15m, 1h, 2d, 1w or 1h30m.</summary>
    /// <exception cref="UsageException">Not such a duration.</exception>
    public static TimeSpan Lookback(string value, string option)
    {
        var match = LookbackPattern().Match(value.Trim());
        if (!match.Success)
        {
            throw new UsageException($"{option} \"{value}\" is not a duration: use forms like 30s, 15m, 1h, 2d or 1h30m");
        }

        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var number = double.Parse(part.Value[..^1], Invariant);
            total += part.Value[^1] switch
            {
                's' => TimeSpan.FromSeconds(number),
                'm' => TimeSpan.FromMinutes(number),
                'h' => TimeSpan.FromHours(number),
                'd' => TimeSpan.FromDays(number),
                _ => TimeSpan.FromDays(7 * number),
            };
        }

        return total > TimeSpan.Zero ? total : throw new UsageException($"{option} \"{value}\" must be longer than zero");
    }

    /// <summary>RFC 3339 for the collector's start/end parameters.</summary>
    public static string Rfc3339(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", Invariant);

    [GeneratedRegex(@"^(?<part>[0-9]+(\.[0-9]+)?[smhdw])+$")]
    private static partial Regex LookbackPattern();
}
