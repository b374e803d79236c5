namespace Observability.Core.Otlp;

/// <summary>
/// Makes strings storable: PostgreSQL text and jsonb cannot hold NUL, and Npgsql refuses lone
/// surrogates. One bad string would otherwise fail the whole batch it is committed with.
/// </summary>
public static class CleanText
{
    public static string Clean(string value)
    {
        var span = value.AsSpan();
        if (span.IndexOf('\0') < 0 && span.IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            return value;
        }

        return string.Create(value.Length, value, static (dest, src) =>
        {
            for (var i = 0; i < src.Length; i++)
            {
                var c = src[i];
                if (c == '\0')
                {
                    dest[i] = '\uFFFD';
                }
                else if (char.IsHighSurrogate(c) && i + 1 < src.Length && char.IsLowSurrogate(src[i + 1]))
                {
                    dest[i] = c;
                    dest[i + 1] = src[i + 1];
                    i++;
                }
                else
                {
                    dest[i] = char.IsSurrogate(c) ? '\uFFFD' : c;
                }
            }
        });
    }
}
