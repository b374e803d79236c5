using System.Buffers;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Which names (headers, JSON keys, query and form parameters, environment variables, <c>key=value</c> in text)
/// hold secrets. No regular expression and no allocation for names up to 256 characters: the proxy checks query
/// parameter names on the request path.
/// </summary>
public static class SecretNames
{
    // Found anywhere in the name once separators are dropped and case folded: "X-Api-Key" -> "xapikey". "auth"
    // apart: it is also in "author".
    private static readonly SearchValues<string> Words = SearchValues.Create(
        [
            "apikey", "accesskey", "privatekey", "secretkey", "signingkey", "masterkey", "accountkey", "sharedkey", "encryptionkey",
            "secret", "token", "passw", "pwd", "passphrase", "connectionstring", "credential", "signature", "session",
            "cookie", "bearer", "sastoken",
        ],
        StringComparison.Ordinal);

    // Whole parts of a name (split at separators and camel case: "userPin" -> "user", "pin"). Short names clouds
    // and apps use for keys and signatures: "sig" (Azure SAS), "key" (Google APIs), "pw", "pin", "otp".
    private static readonly string[] Parts = ["key", "sig", "pw", "pin", "otp", "pass", "jwt", "sas", "psk", "hmac", "mfa", "totp"];

    // The whole name only: too common as a part ("status_code", "zip_code"), secret alone (Azure Functions'
    // "code", OAuth's authorization code, a session id).
    private static readonly string[] WholeNames = ["code", "sid", "ssn", "cvv", "cvc"];

    public static bool IsSecret(ReadOnlySpan<char> name) => IsSecret(name, wholeNames: true);

    public static bool IsSecret(string name) => IsSecret(name.AsSpan(), wholeNames: true);

    /// <summary>
    /// For <c>name: value</c> in free text, where "code: 500" is a status, not a key: the whole-name rule (code, sid)
    /// applies to names in query strings, forms, JSON, headers and the environment only.
    /// </summary>
    public static bool IsSecretInProse(ReadOnlySpan<char> name) => IsSecret(name, wholeNames: false);

    private static bool IsSecret(ReadOnlySpan<char> name, bool wholeNames)
    {
        if (name.IsEmpty)
        {
            return false;
        }

        if (name.Length > 256)
        {
            return true; // not a name anyone reads: err on the safe side
        }

        Span<char> folded = stackalloc char[name.Length];
        var length = 0;
        foreach (var c in name)
        {
            if (char.IsLetterOrDigit(c))
            {
                folded[length++] = char.ToLowerInvariant(c);
            }
        }

        folded = folded[..length];
        if (folded.IndexOfAny(Words) >= 0 || (folded.Contains("auth", StringComparison.Ordinal) && !IsAuthorNotAuthorization(folded)))
        {
            return true;
        }

        foreach (var whole in WholeNames)
        {
            if (wholeNames && folded.SequenceEqual(whole))
            {
                return true;
            }
        }

        return HasSecretPart(name);
    }

    // "author", "authority" are not secrets; "authorization", "oauth", "x-auth-token" are.
    private static bool IsAuthorNotAuthorization(ReadOnlySpan<char> folded)
    {
        var at = folded.IndexOf("auth", StringComparison.Ordinal);
        while (at >= 0)
        {
            var rest = folded[at..];
            if (!rest.StartsWith("author", StringComparison.Ordinal) || rest.StartsWith("authoriz", StringComparison.Ordinal))
            {
                return false;
            }

            var next = rest[4..].IndexOf("auth", StringComparison.Ordinal);
            at = next < 0 ? -1 : at + 4 + next;
        }

        return true;
    }

    private static bool HasSecretPart(ReadOnlySpan<char> name)
    {
        var start = 0;
        for (var i = 1; i <= name.Length; i++)
        {
            var boundary = i == name.Length
                || !char.IsLetterOrDigit(name[i])
                || (char.IsUpper(name[i]) && char.IsLower(name[i - 1]));
            if (!boundary)
            {
                continue;
            }

            var part = name[start..i];
            while (part.Length > 0 && !char.IsLetterOrDigit(part[0]))
            {
                part = part[1..];
            }

            foreach (var secret in Parts)
            {
                if (part.Equals(secret, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            start = i;
        }

        return false;
    }
}
