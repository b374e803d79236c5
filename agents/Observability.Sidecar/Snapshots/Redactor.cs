using System.Text.RegularExpressions;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Removes secrets from what a failure snapshot captures, before it leaves the sidecar: header values by
/// name, and in any text (bodies, URLs, log lines, environment values) JSON members and key=value pairs whose
/// key looks like a secret, bearer tokens, credentials in URLs, and the operator's own patterns.
/// It works on text rather than parsed JSON because captured bodies are cut at a cap and may not parse.
/// </summary>
public sealed partial class Redactor
{
    public const string Mask = "[REDACTED]";

    private static readonly string[] AlwaysRedactedHeaders = ["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"];

    private readonly HashSet<string> _headers;
    private readonly Regex[] _patterns;

    /// <param name="extraHeaders">More header names whose values are always redacted.</param>
    /// <param name="extraPatterns">Regular expressions whose matches are redacted in all captured text.</param>
    public Redactor(IEnumerable<string> extraHeaders, IEnumerable<string> extraPatterns)
    {
        _headers = new HashSet<string>(AlwaysRedactedHeaders.Concat(extraHeaders), StringComparer.OrdinalIgnoreCase);
        _patterns = [.. extraPatterns.Select(p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100)))];
    }

    /// <summary>Whether a name (header, JSON key, environment variable) looks like it holds a secret.</summary>
    public static bool IsSecretName(string name) => SecretName().IsMatch(name);

    public string Header(string name, string value) =>
        _headers.Contains(name) || IsSecretName(name) ? Mask : Text(value);

    public string EnvironmentVariable(string name, string value) => IsSecretName(name) ? Mask : Text(value);

    public string Text(string text)
    {
        if (text.Length == 0)
        {
            return text;
        }

        text = JsonSecretMember().Replace(text, m => m.Groups["key"].Value is var key && key.EndsWith('"')
            ? key + Mask + "\""
            : key + "\"" + Mask + "\"");
        text = KeyValueSecret().Replace(text, m => m.Groups["key"].Value + Mask);
        text = BearerToken().Replace(text, "${scheme} " + Mask);
        text = UrlCredentials().Replace(text, "://" + Mask + "@");
        foreach (var pattern in _patterns)
        {
            text = pattern.Replace(text, Mask);
        }

        return text;
    }

    // Key, secret, token, password, connection string, credentials, private keys, signatures, sessions.
    private const string SecretWords = "(?:api[_.-]?key|access[_.-]?key|private[_.-]?key|secret|token|passw(?:or)?d|pwd|connection[_.-]?strings?|credential|signature|session|auth)";

    [GeneratedRegex(SecretWords + "|(?:^|[_.-])key$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    // "password": "x"  /  "apiKey": 123  (the value, possibly cut off by the capture cap).
    [GeneratedRegex("(?<key>\"[^\"]*" + SecretWords + "[^\"]*\"\\s*:\\s*\")(?:[^\"\\\\]|\\\\.)*\"?|(?<key>\"[^\"]*" + SecretWords + "[^\"]*\"\\s*:\\s*)(?=[^\\s\"{\\[])[^,}\\]\\s]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 100)]
    private static partial Regex JsonSecretMember();

    // token=abc in query strings, forms, connection strings and log lines.
    [GeneratedRegex("(?<key>[\\w.-]*" + SecretWords + "[\\w.-]*\\s*=\\s*)[^&\\s;,\"']+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 100)]
    private static partial Regex KeyValueSecret();

    [GeneratedRegex("(?<scheme>Bearer|Basic)\\s+[A-Za-z0-9._~+/=-]{8,}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 100)]
    private static partial Regex BearerToken();

    // scheme://user:password@host
    [GeneratedRegex("://[^/\\s:@]+:[^@\\s/]+@", RegexOptions.CultureInvariant, 100)]
    private static partial Regex UrlCredentials();
}
