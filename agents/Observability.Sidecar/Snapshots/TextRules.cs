using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// The rules for any captured text (log lines, exception messages, URLs, header and environment values, bodies
/// that are not JSON or forms), in order: credential formats; JSON members under secret names, whole objects and
/// arrays included; <c>name=value</c>, <c>name: value</c> and <c>Name=Bearer X</c> with a secret name; query
/// strings; <c>Bearer</c>/<c>Basic</c> credentials; passwords in URLs.
/// </summary>
public static partial class TextRules
{
    // Text with none of these (and no token prefix or auth scheme) has nothing the rules could match: most JSON
    // string values, many log lines.
    private static readonly SearchValues<char> Triggers = SearchValues.Create(":=?@\"'");
    private static readonly SearchValues<string> Schemes = SearchValues.Create(["bearer", "basic", "digest"], StringComparison.OrdinalIgnoreCase);

    // Auth schemes a secret value may start with: "Authorization=Bearer X" masks "Bearer X" whole.
    private static readonly string[] ValueSchemes = ["Bearer", "Basic", "Digest", "Token", "ApiKey", "SharedAccessSignature"];

    // Where a bare value ends.
    private static readonly SearchValues<char> BareValueEnd = SearchValues.Create(" \t\r\n\f\v&;,\"'<>(){}[]\\=");

    public static string Redact(string text)
    {
        var hasScheme = text.AsSpan().IndexOfAny(Schemes) >= 0;
        if (text.Length == 0 || (!hasScheme && text.AsSpan().IndexOfAny(Triggers) < 0 && !CredentialFormats.MayContain(text)))
        {
            return text;
        }

        text = CredentialFormats.Redact(text);
        text = JsonSecrets.RedactText(text);
        text = Assignments(text);
        if (text.Contains('?', StringComparison.Ordinal))
        {
            text = QueryInText().Replace(text, m => "?" + QueryStrings.Redact(m.Groups["query"].Value));
        }

        if (hasScheme)
        {
            text = SchemeCredential().Replace(text, m => m.Groups["scheme"].Value + " " + Redactor.Mask);
        }

        return text.Contains("://", StringComparison.Ordinal) ? UrlUserInfo().Replace(text, "://" + Redactor.Mask + "@") : text;
    }

    /// <summary>
    /// <c>name=value</c> and <c>name: value</c> (optionally quoted, also JSON-escaped, optionally after an auth scheme)
    /// where the name looks secret. Every separator is looked at, so a value that is itself an assignment
    /// (<c>OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer KEY</c>) is too. A scan, not a regular expression: it
    /// runs over every log line and string value of a snapshot.
    /// </summary>
    private static string Assignments(string text)
    {
        StringBuilder? redacted = null;
        var copied = 0;
        var at = 0;
        while (at < text.Length)
        {
            var separator = text.AsSpan(at).IndexOfAny(':', '=');
            if (separator < 0)
            {
                break;
            }

            separator += at;
            at = separator + 1;
            if (!IsSecretKeyBefore(text, separator))
            {
                continue;
            }

            var valueStart = separator + 1;
            while (valueStart < text.Length && text[valueStart] is ' ' or '\t')
            {
                valueStart++;
            }

            var valueEnd = ValueEnd(text, valueStart);
            if (valueEnd <= valueStart)
            {
                continue;
            }

            var quote = text.AsSpan(valueStart) switch
            {
                ['\\', '"', ..] => "\\\"",
                ['"', ..] => "\"",
                ['\'', ..] => "'",
                _ => string.Empty,
            };
            redacted ??= new StringBuilder(text.Length);
            redacted.Append(text, copied, valueStart - copied).Append(quote).Append(Redactor.Mask).Append(quote);
            copied = at = valueEnd;
        }

        return redacted is null ? text : redacted.Append(text, copied, text.Length - copied).ToString();
    }

    // The name before a separator: spaces, an optional closing quote (JSON-escaped too), then a name of letters,
    // digits, '_', '.', '-' that starts with a letter or '_', at most 101 characters, not part of a longer word.
    private static bool IsSecretKeyBefore(string text, int separator)
    {
        var end = separator;
        while (end > 0 && text[end - 1] is ' ' or '\t')
        {
            end--;
        }

        if (end > 0 && text[end - 1] is '"' or '\'')
        {
            end--;
            if (end > 0 && text[end - 1] == '\\')
            {
                end--;
            }
        }

        var start = end;
        while (start > 0 && IsNameChar(text[start - 1]) && end - start <= 101)
        {
            start--;
        }

        if (start == end || end - start > 101 || (start > 0 && IsNameChar(text[start - 1])) || !(char.IsLetter(text[start]) || text[start] == '_'))
        {
            return false;
        }

        return SecretNames.IsSecretInProse(text.AsSpan(start, end - start));
    }

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '.' or '-';

    // Where the value starting at `start` ends: after an optional auth scheme, a JSON-escaped or plain quoted string
    // (to its closing quote, or the end of the line when cut off), or a bare word.
    private static int ValueEnd(string text, int start)
    {
        var at = start;
        foreach (var scheme in ValueSchemes)
        {
            if (text.AsSpan(at).StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && at + scheme.Length < text.Length && text[at + scheme.Length] is ' ' or '\t')
            {
                at += scheme.Length;
                while (at < text.Length && text[at] is ' ' or '\t')
                {
                    at++;
                }

                break;
            }
        }

        if (at >= text.Length)
        {
            return start;
        }

        var rest = text.AsSpan(at);
        var lineEnd = rest.IndexOfAny('\r', '\n');
        lineEnd = lineEnd < 0 ? text.Length : at + lineEnd;
        if (rest is ['\\', '"', ..])
        {
            var close = text.AsSpan(at + 2, lineEnd - at - 2).IndexOf("\\\"", StringComparison.Ordinal);
            return close < 0 ? lineEnd : at + 2 + close + 2;
        }

        if (rest is ['"' or '\'', ..])
        {
            var quote = rest[0];
            for (var i = at + 1; i < lineEnd; i++)
            {
                if (text[i] == '\\' && quote == '"')
                {
                    i++;
                }
                else if (text[i] == quote)
                {
                    return i + 1;
                }
            }

            return lineEnd;
        }

        var bare = rest.IndexOfAny(BareValueEnd);
        return bare < 0 ? text.Length : at + bare;
    }

    // A query string in text: after a '?', up to whitespace, a quote, or a fragment.
    [GeneratedRegex("\\?(?<query>[^\\s\"'<>#\\\\?]+)", RegexOptions.CultureInvariant, Redactor.RegexTimeoutMs)]
    private static partial Regex QueryInText();

    [GeneratedRegex("\\b(?<scheme>Bearer|Basic|Digest)\\s+(?!\\[REDACTED\\])[A-Za-z0-9._~+/=-]{3,}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Redactor.RegexTimeoutMs)]
    private static partial Regex SchemeCredential();

    // scheme://user:password@host: the whole user information goes (a user name is often a key id).
    [GeneratedRegex("://[^/\\s:@]*:[^\\s@/?#]*@", RegexOptions.CultureInvariant, Redactor.RegexTimeoutMs)]
    private static partial Regex UrlUserInfo();
}
