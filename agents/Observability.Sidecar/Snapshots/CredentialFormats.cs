using System.Buffers;
using System.Text.RegularExpressions;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Values that are credentials whatever they are called: well-known token formats (live and test API keys,
/// GitHub, Slack, npm, Google, AWS, JWTs) and PEM private key blocks. Formats with a fixed prefix only, so
/// ordinary ids and hashes are kept.
/// </summary>
public static partial class CredentialFormats
{
    // Prefixes checked in one vectorised pass before paying for the regular expressions (query values on the
    // request path, every string of a JSON body).
    private static readonly SearchValues<string> Prefixes = SearchValues.Create(
        [
            "sk_", "rk_", "pk_", "whsec_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_", "glpat-", "xox", "hooks.slack.com",
            "npm_", "AKIA", "ASIA", "AIza", "ya29.", "GOCSPX-", "eyJ", "-----BEGIN", "SG.", "sq0",
        ],
        StringComparison.Ordinal);

    /// <summary>Whether the value may hold a known format (a cheap test; <see cref="Redact"/> decides).</summary>
    public static bool MayContain(ReadOnlySpan<char> value) => value.IndexOfAny(Prefixes) >= 0;

    public static string Redact(string text)
    {
        if (!MayContain(text))
        {
            return text;
        }

        text = PrivateKeyBlock().Replace(text, Redactor.Mask);
        // The 40-character secret first: it is recognised by the key id beside it, which is masked next.
        if (text.Contains("AKIA", StringComparison.Ordinal) || text.Contains("ASIA", StringComparison.Ordinal))
        {
            text = AwsSecretNearKeyId().Replace(text, Redactor.Mask);
        }

        return KnownToken().Replace(text, Redactor.Mask);
    }

    // A PEM (or PGP) private key, to its END line or to the end of the text when the capture cap cut it.
    [GeneratedRegex("-----BEGIN[A-Z0-9 ]* PRIVATE KEY(?: BLOCK)?-----[\\s\\S]*?(?:-----END[A-Z0-9 ]* PRIVATE KEY(?: BLOCK)?-----|\\z)", RegexOptions.CultureInvariant, Redactor.RegexTimeoutMs)]
    private static partial Regex PrivateKeyBlock();

    // An AWS secret access key (40 characters of base64) within 200 characters after an access key id; the
    // lookbehind comes last so that it runs only where a 40-character run ends.
    [GeneratedRegex("(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])(?<=\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b[\\s\\S]{0,200}?[A-Za-z0-9/+]{40})", RegexOptions.CultureInvariant, Redactor.RegexTimeoutMs)]
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
        Redactor.RegexTimeoutMs)]
    private static partial Regex KnownToken();
}
