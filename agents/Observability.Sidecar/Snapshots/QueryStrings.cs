using System.Text;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Redacts <c>name=value&amp;…</c> text: query strings and form-encoded bodies. A value goes when its name looks
/// secret (including the short names clouds use: <c>sig</c>, <c>key</c>, <c>code</c>, <c>X-Amz-Signature</c>) or
/// when the value itself, once percent-decoded, holds a credential. Runs on the request path for the span's
/// <c>url.query</c>: no allocation and no regular expression when nothing looks secret.
/// </summary>
public static class QueryStrings
{
    /// <summary>The query (with or without its leading '?') with secret values masked; the same instance when none is.</summary>
    public static string Redact(string query)
    {
        StringBuilder? redacted = null;
        var copied = 0;
        var at = query.StartsWith('?') ? 1 : 0;
        while (at < query.Length)
        {
            var end = query.IndexOf('&', at);
            end = end < 0 ? query.Length : end;
            var pair = query.AsSpan(at, end - at);
            var equals = pair.IndexOf('=');
            if (equals > 0)
            {
                var value = pair[(equals + 1)..];
                if (!value.IsEmpty && !value.SequenceEqual(Redactor.Mask) && (NameIsSecret(pair[..equals]) || ValueIsSecret(value)))
                {
                    redacted ??= new StringBuilder(query.Length + 16);
                    var valueStart = at + equals + 1;
                    redacted.Append(query, copied, valueStart - copied).Append(Redactor.Mask);
                    copied = end;
                }
            }

            at = end + 1;
        }

        return redacted is null ? query : redacted.Append(query, copied, query.Length - copied).ToString();
    }

    private static bool NameIsSecret(ReadOnlySpan<char> name) =>
        SecretNames.IsSecret(NeedsDecoding(name) ? Decode(name) : name);

    private static bool ValueIsSecret(ReadOnlySpan<char> value)
    {
        var text = NeedsDecoding(value) ? Decode(value) : value;
        // Only a value that may hold a token format or an assignment ("password: x") is worth the regular expressions.
        if (!CredentialFormats.MayContain(text) && text.IndexOfAny(":=/") < 0)
        {
            return false;
        }

        var original = text.ToString();
        return !string.Equals(TextRules.Redact(original), original, StringComparison.Ordinal);
    }

    private static bool NeedsDecoding(ReadOnlySpan<char> text) => text.IndexOfAny('%', '+') >= 0;

    private static string Decode(ReadOnlySpan<char> text) => Uri.UnescapeDataString(text.ToString().Replace('+', ' '));
}
