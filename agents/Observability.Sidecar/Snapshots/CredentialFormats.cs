using System.Text.RegularExpressions;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Values that are credentials whatever they are called: well-known token formats (live and test API keys,
/// GitHub, Slack, npm, Google, AWS, JWTs) and PEM private key blocks. Formats with a fixed prefix only, so
/// ordinary ids and hashes are kept.
/// </summary>
public static partial class CredentialFormats
{
    // Prefixes the proxy checks before paying for the regular expressions (query values on the request path).
    private static readonly string[] Prefixes =
    [
        "sk_", "rk_", "pk_", "whsec_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_", "glpat-", "xox", "hooks.slack.com",
        "npm_", "AKIA", "ASIA", "AIza", "ya29.", "GOCSPX-", "eyJ", "-----BEGIN", "SG.", "sq0",
    ];

    /// <summary>Whether the value may hold a known format (a cheap test; <see cref="Redact"/> decides).</summary>
    public static bool MayContain(ReadOnlySpan<char> value)
    {
        foreach (var prefix in Prefixes)
        {
            if (value.Contains(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public static string Redact(string text)
    {
        if (!MayContain(text))
        {
            return text;
        }

        text = PrivateKeyBlock().Replace(text, Redactor.Mask);
        // The 40-character secret first: it is recognised by the key id beside it, which is masked next.
        text = AwsSecretNearKeyId().Replace(text, Redactor.Mask);
        return KnownToken().Replace(text, Redactor.Mask);
    }

    // A PEM (or PGP) private key, to its END line or to the end of the text when the capture cap cut it.
    [GeneratedRegex("-----BEGIN[A-Z0-9 ]* PRIVATE KEY(?: BLOCK)?-----[\\s\\S]*?(?:-----END[A-Z0-9 ]* PRIVATE KEY(?: BLOCK)?-----|\\z)", RegexOptions.CultureInvariant, 200)]
    private static partial Regex PrivateKeyBlock();

    // An AWS secret access key (40 characters of base64) within 200 characters after an access key id.
    [GeneratedRegex("(?<=\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b[\\s\\S]{0,200}?)(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", RegexOptions.CultureInvariant, 200)]
    private static partial Regex AwsSecretNearKeyId();

    [GeneratedRegex(
        "\\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{8,}" // Stripe-style secret, restricted and publishable keys
        + "|\\bwhsec_[0-9A-Za-z]{16,}" // webhook signing secrets
        + "|\\b(?:ghp|gho|ghs|ghu|ghr)_[0-9A-Za-z]{20,}|\\bgithub_pat_[0-9A-Za-z_]{20,}" // GitHub
        + "|\\bglpat-[0-9A-Za-z_-]{20,}" // GitLab
        + "|\\bxox[abposre]-[0-9A-Za-z-]{10,}|hooks\\.slack\\.com/services/[0-9A-Za-z/_-]+" // Slack tokens and webhooks
        + "|\\bnpm_[0-9A-Za-z]{20,}" // npm
        + "|\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b" // AWS access key ids
        + "|\\bAIza[0-9A-Za-z_-]{30,}|\\bya29\\.[0-9A-Za-z_-]{20,}|\\bGOCSPX-[0-9A-Za-z_-]{20,}" // Google API keys, OAuth tokens and client secrets
        + "|\\bSG\\.[0-9A-Za-z_-]{16,}\\.[0-9A-Za-z_-]{16,}" // SendGrid
        + "|\\bsq0(?:atp|csp)-[0-9A-Za-z_-]{20,}" // Square
        + "|\\beyJ[0-9A-Za-z_-]{4,}\\.eyJ[0-9A-Za-z_-]{4,}\\.?[0-9A-Za-z_-]*", // JWTs (the signature may be cut off or absent)
        RegexOptions.CultureInvariant,
        200)]
    private static partial Regex KnownToken();
}
