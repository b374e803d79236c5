using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Observability.Sidecar.Telemetry;

/// <summary>
/// Trust for an https OTLP endpoint whose certificate comes from a private CA, as OTEL_EXPORTER_OTLP_CERTIFICATE
/// means it: a PEM file of one or more CA certificates that the exports trust instead of the system's roots.
/// Without one the system's trust store decides, so a publicly trusted certificate needs nothing.
/// </summary>
internal static class ExportTls
{
    public const string CertificateVariable = "OTEL_EXPORTER_OTLP_CERTIFICATE";

    /// <returns>What is wrong with the file, or null when it holds at least one certificate.</returns>
    public static string? Problem(string path)
    {
        try
        {
            using var loaded = new DisposableCollection(Load(path));
            return loaded.Certificates.Count == 0 ? $"{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)" : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{path} cannot be read: {e.Message}";
        }
        catch (CryptographicException e)
        {
            return $"{path} holds a PEM block that is not a certificate: {e.Message}";
        }
    }

    /// <summary>TLS options for the exports: trust only the CAs in <paramref name="certificateFile"/>, or the system's roots when null.</summary>
    public static SslClientAuthenticationOptions ClientOptions(string? certificateFile)
    {
        if (certificateFile is null)
        {
            return new SslClientAuthenticationOptions();
        }

        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,

            // A private CA seldom publishes revocation lists; other OpenTelemetry SDKs do not check them either.
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(Load(certificateFile));
        return new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
    }

    private static X509Certificate2Collection Load(string path)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(path);
        return certificates;
    }

    private readonly struct DisposableCollection(X509Certificate2Collection certificates) : IDisposable
    {
        public X509Certificate2Collection Certificates => certificates;

        public void Dispose()
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }
}
