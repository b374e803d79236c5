using System.Text.RegularExpressions;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Removes secrets from what a failure snapshot captures, before it leaves the sidecar. Header values by name;
/// the sidecar's own secrets (its OTLP header values, its warm-up token) wherever they appear; environment
/// variables by name, by the sidecar's own settings and by value; bodies as JSON, forms or text; and in every
/// text the rules of <see cref="TextRules"/> and the operator's own patterns.
/// </summary>
public sealed class Redactor
{
    public const string Mask = "[REDACTED]";

    /// <summary>
    /// A backstop against runaway matching, not a budget: the first match of a rule also pays for compiling it
    /// (measured 180 ms on a loaded 2-core machine), and a timed-out rule costs the whole snapshot.
    /// </summary>
    internal const int RegexTimeoutMs = 2000;

    private static readonly string[] AlwaysRedactedHeaders = ["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"];

    // Variables that name a folder, not a password, though "pwd" is one of the secret words.
    private static readonly string[] WorkingDirectoryVariables = ["PWD", "OLDPWD"];

    private readonly HashSet<string> _headers;
    private readonly Regex[] _patterns;
    private readonly string[] _ownSecrets;

    /// <param name="extraHeaders">More header names whose values are always redacted.</param>
    /// <param name="extraPatterns">Regular expressions whose matches are redacted in all captured text.</param>
    /// <param name="ownSecrets">Values masked wherever they appear: the sidecar's own credentials (<see cref="OwnSecrets"/>).</param>
    public Redactor(IEnumerable<string> extraHeaders, IEnumerable<string> extraPatterns, IEnumerable<string>? ownSecrets = null)
    {
        _headers = new HashSet<string>(AlwaysRedactedHeaders.Concat(extraHeaders), StringComparer.OrdinalIgnoreCase);
        _patterns = [.. extraPatterns.Select(p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(RegexTimeoutMs)))];
        // Longest first, so a value that contains another is masked whole.
        _ownSecrets = [.. (ownSecrets ?? []).Where(s => s.Length >= OwnSecrets.MinLength).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
    }

    /// <summary>Whether a name (header, JSON key, parameter, environment variable) looks like it holds a secret.</summary>
    public static bool IsSecretName(string name) => SecretNames.IsSecret(name);

    public string Header(string name, string value) =>
        _headers.Contains(name) || SecretNames.IsSecret(name) ? Mask : Text(value);

    /// <summary>
    /// A variable of the function's environment: masked whole when its name looks secret, when it is one of the
    /// sidecar's own settings (<c>Sidecar__*</c>, <c>OTEL_EXPORTER_*</c>, which the function inherits), or when its
    /// value holds one of the sidecar's own secrets; otherwise its value through the text rules.
    /// </summary>
    public string EnvironmentVariable(string name, string value)
    {
        var secretName = SecretNames.IsSecret(name) && !WorkingDirectoryVariables.Contains(name, StringComparer.Ordinal);
        return secretName || OwnSecrets.IsOwnSetting(name) || ContainsOwnSecret(value) ? Mask : Text(value);
    }

    public string Text(string text)
    {
        if (text.Length == 0)
        {
            return text;
        }

        foreach (var secret in _ownSecrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        text = TextRules.Redact(text);
        foreach (var pattern in _patterns)
        {
            text = pattern.Replace(text, Mask);
        }

        return text;
    }

    /// <summary>
    /// A captured body already known to be UTF-8 text: a complete JSON document token by token, a form by its
    /// fields, anything else (a JSON body cut at the cap included) as text.
    /// </summary>
    public string Body(ReadOnlySpan<byte> bytes, string text, string? contentType, bool truncated)
    {
        var type = contentType ?? string.Empty;
        if (type.Contains("x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return Text(QueryStrings.Redact(text));
        }

        var looksJson = type.Contains("json", StringComparison.OrdinalIgnoreCase) || text.AsSpan().TrimStart() is ['{', ..] or ['[', ..];
        if (looksJson && !truncated && JsonSecrets.RedactParsed(bytes, Text) is { } json)
        {
            return json;
        }

        return Text(text);
    }

    private bool ContainsOwnSecret(string value)
    {
        foreach (var secret in _ownSecrets)
        {
            if (value.Contains(secret, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
