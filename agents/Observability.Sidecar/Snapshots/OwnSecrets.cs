using System.Collections;
using Observability.Sidecar.Configuration;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// The sidecar's own credentials, which a function inherits with the sidecar's environment and may copy anywhere:
/// the OTLP export headers' values (the collector's write key) and every secret-looking <c>Sidecar__*</c> or
/// <c>OTEL_EXPORTER_*</c> setting (the warm-up token). A snapshot masks them wherever they appear, and never shows
/// those settings' values in the function's environment.
/// </summary>
public static class OwnSecrets
{
    /// <summary>Shorter values are not masked everywhere: they would hit ordinary words and numbers.</summary>
    public const int MinLength = 8;

    private static readonly string[] OwnPrefixes = ["Sidecar__", "Sidecar:", "OTEL_EXPORTER_"];

    /// <summary>A variable that configures the sidecar or its OTLP exporter (the function inherits them).</summary>
    public static bool IsOwnSetting(string name)
    {
        foreach (var prefix in OwnPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <param name="options">The sidecar's settings: its OTLP headers (from --otlp-headers or OTEL_EXPORTER_OTLP_HEADERS) and its warm-up token.</param>
    /// <param name="environment">The sidecar's own environment (<see cref="Environment.GetEnvironmentVariables()"/>).</param>
    public static IReadOnlyList<string> Of(SidecarOptions options, IDictionary environment)
    {
        var secrets = new List<string>();
        foreach (var (_, value) in options.EffectiveOtlpHeaders)
        {
            AddHeaderValue(secrets, value);
        }

        foreach (DictionaryEntry variable in environment)
        {
            if (variable.Key is not string name || variable.Value is not string value || !IsOwnSetting(name))
            {
                continue;
            }

            if (name.Contains("HEADERS", StringComparison.OrdinalIgnoreCase))
            {
                // k=v,k2=v2 as the OpenTelemetry specification writes export headers (values percent-encoded).
                foreach (var pair in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    AddHeaderValue(secrets, Uri.UnescapeDataString(equals < 0 ? pair : pair[(equals + 1)..]));
                }
            }
            else if (SecretNames.IsSecret(name))
            {
                Add(secrets, value);
            }
        }

        Add(secrets, options.WarmUpToken);
        return secrets;
    }

    // "Bearer KEY": the key alone too, so it goes wherever it is copied without its scheme.
    private static void AddHeaderValue(List<string> secrets, string value)
    {
        Add(secrets, value);
        var space = value.LastIndexOf(' ');
        if (space >= 0)
        {
            Add(secrets, value[(space + 1)..]);
        }
    }

    private static void Add(List<string> secrets, string? value)
    {
        value = value?.Trim();
        if (value is { Length: >= MinLength })
        {
            secrets.Add(value);
        }
    }
}
