using Cronos;

namespace Observability.WarmUp.Targets;

/// <summary>
/// When warm-up is active for a target, as a cron expression over minutes ("* 7-19 * * 1-5": weekdays from 07:00
/// to 19:59) in a time zone: a minute the expression matches is active. Outside it pings are skipped and counted.
/// </summary>
public sealed class ActiveHours
{
    private readonly CronExpression _cron;
    private readonly TimeZoneInfo _zone;

    private ActiveHours(string expression, CronExpression cron, TimeZoneInfo zone)
    {
        Expression = expression;
        _cron = cron;
        _zone = zone;
    }

    public string Expression { get; }

    /// <exception cref="FormatException">The expression is not a 5-field cron expression, or the time zone is unknown.</exception>
    public static ActiveHours Parse(string expression, string? timeZone = null)
    {
        CronExpression cron;
        try
        {
            cron = CronExpression.Parse(expression, CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            throw new FormatException($"\"{expression}\" is not a cron expression of 5 fields (minute hour day-of-month month day-of-week): {e.Message}", e);
        }

        TimeZoneInfo zone;
        try
        {
            zone = string.IsNullOrEmpty(timeZone) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(timeZone);
        }
        catch (TimeZoneNotFoundException e)
        {
            throw new FormatException($"\"{timeZone}\" is not a known time zone (use an IANA name such as Europe/Berlin).", e);
        }

        return new ActiveHours(expression + (string.IsNullOrEmpty(timeZone) ? string.Empty : " " + timeZone), cron, zone);
    }

    /// <summary>Whether the minute that holds <paramref name="at"/> is active.</summary>
    public bool IsActive(DateTimeOffset at)
    {
        var minute = new DateTimeOffset(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
        return _cron.GetNextOccurrence(minute, _zone, inclusive: true) == minute;
    }

    public override string ToString() => Expression;
}
