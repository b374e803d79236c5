using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Observability.Collector.Configuration;

namespace Observability.Collector.Security;

/// <summary>
/// The certificate every port serves when TLS is configured, read from PEM files once at start. Any problem
/// (a file missing or unreadable, no certificate or key in it, a key that does not match) stops the start
/// with a message that names the setting.
/// </summary>
internal sealed record ServerCertificate(X509Certificate2 Certificate, X509Certificate2Collection Chain)
{
    /// <returns>null when TLS is not configured.</returns>
    /// <exception cref="OptionsValidationException">A file named by a TLS setting cannot serve.</exception>
    public static ServerCertificate? Load(CollectorOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.TlsCertificateFile) || string.IsNullOrWhiteSpace(options.TlsKeyFile))
        {
            return null;
        }

        var certificatePem = Read(options.TlsCertificateFile, nameof(CollectorOptions.TlsCertificateFile));
        var keyPem = Read(options.TlsKeyFile, nameof(CollectorOptions.TlsKeyFile));
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(certificatePem);
        }
        catch (CryptographicException e)
        {
            throw Invalid(nameof(CollectorOptions.TlsCertificateFile), $"{options.TlsCertificateFile} holds a PEM block that is not a certificate ({e.Message})");
        }

        if (chain.Count == 0)
        {
            throw Invalid(nameof(CollectorOptions.TlsCertificateFile), $"{options.TlsCertificateFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }

        if (!HasPrivateKey(keyPem))
        {
            throw Invalid(nameof(CollectorOptions.TlsKeyFile), $"{options.TlsKeyFile} holds no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)");
        }

        try
        {
            // The first certificate in the file is the server's; the rest are intermediates sent with it.
            var certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            chain.RemoveAt(0);
            return new ServerCertificate(certificate, chain);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw Invalid(
                $"{nameof(CollectorOptions.TlsCertificateFile)} and Collector:{nameof(CollectorOptions.TlsKeyFile)}",
                $"the key in {options.TlsKeyFile} does not belong to the first certificate in {options.TlsCertificateFile} ({e.Message})");
        }
    }

    private static string Read(string path, string setting)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Invalid(setting, $"{path} cannot be read: {e.Message}");
        }
    }

    private static bool HasPrivateKey(string pem)
    {
        ReadOnlySpan<char> rest = pem;
        while (PemEncoding.TryFind(rest, out var fields))
        {
            if (rest[fields.Label] is "PRIVATE KEY" or "RSA PRIVATE KEY" or "EC PRIVATE KEY")
            {
                return true;
            }

            rest = rest[fields.Location.End..];
        }

        return false;
    }

    private static OptionsValidationException Invalid(string setting, string problem) =>
        new(CollectorOptions.Section, typeof(CollectorOptions), [$"Collector:{setting}: {problem}."]);
}
