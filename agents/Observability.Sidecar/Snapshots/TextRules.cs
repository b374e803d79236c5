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
    // Text with none of these (and no token prefix) has nothing the rules could match: most JSON string values.
    private static readonly SearchValues<char> Triggers = SearchValues.Create(":=?@\"'");

    public static string Redact(string text)
    {
        if (text.Length == 0 || (!CredentialFormats.MayContain(text) && text.AsSpan().IndexOfAny(Triggers) < 0 && !HasScheme(text)))
        {
            return text;
        }

        text = CredentialFormats.Redact(text);
        text = JsonSecrets.RedactText(text);
        text = Assignments(text);
        text = QueryInText().Replace(text, m => "?" + QueryStrings.Redact(m.Groups["query"].Value));
        text = SchemeCredential().Replace(text, m => m.Groups["scheme"].Value + " " + Redactor.Mask);
        return UrlUserInfo().Replace(text, Redactor.Mask);
    }

    private static bool HasScheme(string text) =>
        text.Contains("bearer", StringComparison.OrdinalIgnoreCase) || text.Contains("basic", StringComparison.OrdinalIgnoreCase) || text.Contains("digest", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// <c>name=value</c> and <c>name: value</c> where the name looks secret. The match stops before the value, so a
    /// value that is itself an assignment (<c>OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer KEY</c>) is looked at too.
    /// </summary>
    private static string Assignments(string text)
    {
        StringBuilder? redacted = null;
        var copied = 0;
        var at = 0;
        while (at < text.Length)
        {
            var match = Assignment().Match(text, at);
            if (!match.Success)
            {
                break;
            }

            var value = match.Groups["value"];
            if (!SecretNames.IsSecretInProse(match.Groups["key"].ValueSpan))
            {
                at = match.Index + match.Length;
                continue;
            }

            redacted ??= new StringBuilder(text.Length);
            redacted.Append(text, copied, value.Index - copied);
            var quote = value.ValueSpan switch
            {
                ['\\', '"', ..] => "\\\"",
                ['"', ..] => "\"",
                ['\'', ..] => "'",
                _ => string.Empty,
            };
            redacted.Append(quote).Append(Redactor.Mask).Append(quote);
            copied = at = value.Index + value.Length;
        }

        return redacted is null ? text : redacted.Append(text, copied, text.Length - copied).ToString();
    }

    // The name, an optional closing quote (also JSON-escaped), the separator; the value in a lookahead: an optional
    // auth scheme, then an escaped-quoted, quoted or bare value (possibly cut off at the end of the text).
    [GeneratedRegex(
        "(?<![\\w.-])(?<key>[A-Za-z_][\\w.-]{0,100})\\\\?[\"']?[ \\t]*[:=][ \\t]*"
        + "(?=(?<value>(?:(?:Bearer|Basic|Digest|Token|ApiKey|SharedAccessSignature)[ \\t]+)?"
        + "(?:\\\\\"(?:(?!\\\\\")[^\\r\\n])*(?:\\\\\"|$)|\"(?:[^\"\\\\\\r\\n]|\\\\.)*\"?|'[^'\\r\\n]*'?|[^\\s&;,\"'<>(){}\\[\\]\\\\=]+)))",
        RegexOptions.CultureInvariant | RegexOptions.Multiline,
        200)]
    private static partial Regex Assignment();

    // A query string in text: after a '?', up to whitespace, a quote, or a fragment.
    [GeneratedRegex("\\?(?<query>[^\\s\"'<>#\\\\?]+)", RegexOptions.CultureInvariant, 200)]
    private static partial Regex QueryInText();

    [GeneratedRegex("\\b(?<scheme>Bearer|Basic|Digest)\\s+(?!\\[REDACTED\\])[A-Za-z0-9._~+/=-]{3,}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 200)]
    private static partial Regex SchemeCredential();

    // scheme://user:password@host: the whole user information goes (a user name is often a key id).
    [GeneratedRegex("(?<=://)[^/\\s:@]*:[^\\s@/?#]*(?=@)", RegexOptions.CultureInvariant, 200)]
    private static partial Regex UrlUserInfo();
}
