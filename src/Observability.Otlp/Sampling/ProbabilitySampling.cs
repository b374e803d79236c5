using System.Buffers.Binary;
using System.Globalization;

namespace Observability.Otlp.Sampling;

/// <summary>
/// OpenTelemetry consistent probability sampling ("TraceState: Probability Sampling" in the specification): a span
/// is kept when its trace's 56-bit randomness R (the <c>rv</c> sub-key of the <c>ot</c> tracestate entry, else the
/// trace id's last 7 bytes) is at least the 56-bit rejection threshold T, carried as <c>ot=th:HEX</c> (14 hex
/// digits, trailing zeros removed). A kept span stands for 2^56 / (2^56 - T) spans: its adjusted count.
/// </summary>
public static class ProbabilitySampling
{
    /// <summary>2^56: the number of distinct randomness values, and the largest adjusted count.</summary>
    public const ulong MaxAdjustedCount = 1UL << 56;

    /// <summary>Hex digits of threshold precision, as the specification recommends SDKs use by default.</summary>
    public const int DefaultPrecision = 4;

    private const int ThresholdDigits = 14;

    /// <summary>
    /// The rejection threshold for a sampling probability, rounded to <paramref name="precision"/> significant
    /// hex digits (more digits for probabilities near zero, so the precision applies to what is kept, as the
    /// specification's reference algorithm does). Null when nothing can be sampled (below 2^-56, or 0).
    /// </summary>
    public static ulong? ThresholdOf(double probability, int precision = DefaultPrecision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(precision, 1);
        if (double.IsNaN(probability) || probability < 1.0 / MaxAdjustedCount)
        {
            return null;
        }

        if (probability >= 1)
        {
            return 0;
        }

        // frexp's exponent of p is ILogB(p) + 1 (p = m * 2^e, m in [0.5, 1)); each 4 bits of it buys a digit.
        var exponent = Math.ILogB(probability) + 1;
        var digits = Math.Clamp(precision + (-exponent / 4), 1, 12);
        var scale = Math.ScaleB(1.0, 4 * digits);
        var rounded = (ulong)Math.Round((1 - probability) * scale, MidpointRounding.AwayFromZero);
        // Rounding up to 2^(4*digits) would reject everything: keep the largest threshold below it.
        rounded = Math.Min(rounded, (1UL << (4 * digits)) - 1);
        return rounded << (56 - (4 * digits));
    }

    /// <summary>The <c>th</c> value of a threshold: hex, trailing zeros removed, "0" for 100%.</summary>
    public static string Encode(ulong threshold)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(threshold, MaxAdjustedCount);
        return threshold == 0 ? "0" : threshold.ToString("x14", CultureInfo.InvariantCulture).TrimEnd('0');
    }

    /// <summary>Parses a <c>th</c> value: 1 to 14 hex digits, extended with trailing zeros to 56 bits.</summary>
    public static bool TryDecode(ReadOnlySpan<char> th, out ulong threshold)
    {
        threshold = 0;
        if (th.Length is 0 or > ThresholdDigits || !ulong.TryParse(th, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        threshold = value << (4 * (ThresholdDigits - th.Length));
        return true;
    }

    /// <summary>What one span kept at this threshold stands for: 2^56 / (2^56 - T).</summary>
    public static double AdjustedCount(ulong threshold) => MaxAdjustedCount / (double)(MaxAdjustedCount - threshold);

    /// <summary>The trace id's randomness: its last 7 bytes (W3C Trace Context Level 2).</summary>
    public static ulong Randomness(ReadOnlySpan<byte> traceId) =>
        BinaryPrimitives.ReadUInt64BigEndian(traceId[8..]) & (MaxAdjustedCount - 1);

    /// <summary>Whether a span with randomness <paramref name="randomness"/> is kept at <paramref name="threshold"/>.</summary>
    public static bool Keeps(ulong threshold, ulong randomness) => randomness >= threshold;

    /// <summary>
    /// The adjusted count a W3C tracestate says (its <c>ot</c> entry's <c>th</c>), or null when it says none or
    /// something that is not a threshold (the specification leaves such a span's count undefined).
    /// </summary>
    public static double? AdjustedCountOf(string? traceState) =>
        OtTraceState.Find(traceState) is { Threshold: { } threshold } ? AdjustedCount(threshold) : null;
}
