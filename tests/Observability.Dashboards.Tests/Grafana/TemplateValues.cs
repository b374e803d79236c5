using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Observability.Dashboards.Tests.Grafana;

/// <summary>
/// Fills a query's template variables and SQL macros as Grafana does before it sends the query: a variable's
/// selection becomes a regex (the value escaped, several joined with |, All as the variable's allValue ".*"),
/// $__rate_interval, $__interval and $__range become durations, $__timeFilter(col) a BETWEEN over the time range.
/// </summary>
internal sealed partial class TemplateValues
{
    /// <summary>Grafana's own variables; a dashboard needs not define them.</summary>
    public static readonly IReadOnlySet<string> BuiltIn = new HashSet<string>(StringComparer.Ordinal)
    {
        "__rate_interval", "__interval", "__interval_ms", "__range", "__range_s", "__range_ms", "__timeFilter", "__timeFrom", "__timeTo",
        "__unixEpochFilter", "__timeGroup", "__timeGroupAlias", "__value", "__url_time_range", "__data", "__field", "__series", "__all",
    };

    private readonly Dictionary<string, string> _regex = new(StringComparer.Ordinal);

    public TemplateValues(DateTimeOffset from, DateTimeOffset to, string rateInterval, string interval)
    {
        From = from;
        To = to;
        RateInterval = rateInterval;
        Interval = interval;
    }

    public DateTimeOffset From { get; }

    public DateTimeOffset To { get; }

    public string RateInterval { get; }

    public string Interval { get; }

    /// <summary>The dashboard's time range as a PromQL duration in whole seconds.</summary>
    public string Range => ((long)Math.Ceiling((To - From).TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s";

    /// <summary>Selects All for a variable (its allValue, ".*").</summary>
    public TemplateValues All(string name)
    {
        _regex[name] = ".*";
        return this;
    }

    /// <summary>Selects these values of a variable.</summary>
    public TemplateValues Select(string name, params string[] values)
    {
        _regex[name] = values.Length == 1 ? Escape(values[0]) : "(" + string.Join('|', values.Select(Escape)) + ")";
        return this;
    }

    public IEnumerable<string> Variables => _regex.Keys;

    /// <summary>Names of the variables a text refers to ($name, ${name}, ${name:format}).</summary>
    public static IReadOnlySet<string> ReferencedIn(string text) =>
        Reference().Matches(text).Select(m => m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["plain"].Value).ToHashSet(StringComparer.Ordinal);

    public string FillPromQl(string expression) => Fill(expression);

    public string FillSql(string sql)
    {
        var text = TimeFilter().Replace(sql, m => $"{m.Groups[1].Value.Trim()} BETWEEN '{Timestamp(From)}' AND '{Timestamp(To)}'");
        text = text.Replace("$__timeFrom()", $"'{Timestamp(From)}'", StringComparison.Ordinal)
            .Replace("$__timeTo()", $"'{Timestamp(To)}'", StringComparison.Ordinal);
        return Fill(text);
    }

    private string Fill(string text) => Reference().Replace(text, m =>
    {
        var name = m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["plain"].Value;
        return name switch
        {
            "__rate_interval" => RateInterval,
            "__interval" => Interval,
            "__range" => Range,
            _ when _regex.TryGetValue(name, out var value) => value,
            _ => throw new InvalidOperationException($"no value for ${name} in: {text}"),
        };
    });

    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Escapes regex metacharacters as Grafana's regex formatting does (RE2 and PostgreSQL read it alike).</summary>
    private static string Escape(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if ("\\^$*+?.()|[]{}/".Contains(c, StringComparison.Ordinal))
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    [GeneratedRegex(@"\$\{(?<braced>\w+)(?::\w+)?\}|\$(?<plain>\w+)")]
    private static partial Regex Reference();

    [GeneratedRegex(@"\$__timeFilter\(([^)]*)\)")]
    private static partial Regex TimeFilter();
}
