using System.Globalization;

namespace Observability.Otlp.Sampling;

/// <summary>
/// The sampling sub-keys of the OpenTelemetry entry (<c>ot=th:…;rv:…</c>) of a W3C tracestate. Parsed only when a
/// tracestate has an <c>ot</c> entry, so the common request (no tracestate) costs one Contains at most.
/// </summary>
public readonly record struct OtTraceState(ulong? Threshold, ulong? Randomness)
{
    private const string Key = "ot";
    private const int RandomnessDigits = 14;

    /// <summary>The <c>th</c> and <c>rv</c> of the <c>ot</c> entry; null when the tracestate has no such entry.</summary>
    public static OtTraceState? Find(string? traceState)
    {
        if (string.IsNullOrEmpty(traceState) || !traceState.Contains("ot=", StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var member in Members(traceState))
        {
            if (OtValue(member) is { } value)
            {
                return Parse(value);
            }
        }

        return null;
    }

    /// <summary>
    /// The tracestate without the <c>th</c> sub-key (an <c>ot</c> entry left empty goes too; everything else stays):
    /// what a sampler passes on when the threshold no longer says what happened to the span.
    /// </summary>
    public static string WithoutThreshold(string traceState)
    {
        var kept = new List<string>();
        foreach (var member in Members(traceState))
        {
            if (OtValue(member) is not { } value)
            {
                kept.Add(member);
                continue;
            }

            var rest = string.Join(';', value.Split(';').Where(pair => !pair.StartsWith("th:", StringComparison.Ordinal)));
            if (rest.Length > 0)
            {
                kept.Add($"{Key}={rest}");
            }
        }

        return string.Join(',', kept);
    }

    private static string? OtValue(string member)
    {
        var equals = member.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 && member.AsSpan(0, equals).Trim().SequenceEqual(Key) ? member[(equals + 1)..].Trim() : null;
    }

    private static OtTraceState Parse(string value)
    {
        ulong? threshold = null, randomness = null;
        foreach (var pair in value.Split(';'))
        {
            if (pair.StartsWith("th:", StringComparison.Ordinal) && ProbabilitySampling.TryDecode(pair.AsSpan(3), out var th))
            {
                threshold = th;
            }
            else if (pair.StartsWith("rv:", StringComparison.Ordinal) && pair.Length == 3 + RandomnessDigits
                && ulong.TryParse(pair.AsSpan(3), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var rv))
            {
                randomness = rv;
            }
        }

        return new OtTraceState(threshold, randomness);
    }

    private static string[] Members(string traceState) =>
        traceState.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
