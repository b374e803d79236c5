namespace Observability.Core.Otlp;

internal static class OtlpTime
{
    // DateTime ticks are 100 ns; DateTime.MaxValue is far beyond anything IngestRules accepts.
    private static readonly ulong MaxUnixNanos = (ulong)(DateTime.MaxValue - DateTime.UnixEpoch).Ticks * 100;

    public static DateTime ToDateTime(ulong unixNanos) =>
        DateTime.UnixEpoch.AddTicks((long)(Math.Min(unixNanos, MaxUnixNanos) / 100));

    public static ulong ToUnixNanos(DateTime utc) => (ulong)(utc - DateTime.UnixEpoch).Ticks * 100;

    /// <summary>Null when the time is acceptable, else why not.</summary>
    public static string? Check(ulong unixNanos, string what, DateTime nowUtc, IngestRules rules)
    {
        if (unixNanos == 0)
        {
            return $"{what} is missing";
        }

        var time = ToDateTime(unixNanos);
        if (time < nowUtc - rules.MaxAge)
        {
            return $"{what} is older than the retention of {rules.MaxAge.TotalDays:0.#} days";
        }

        return time > nowUtc + rules.MaxFutureSkew
            ? $"{what} is more than {rules.MaxFutureSkew.TotalMinutes:0} minutes in the future"
            : null;
    }
}
