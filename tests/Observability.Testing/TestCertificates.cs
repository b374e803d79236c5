using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Observability.Testing;

/// <summary>
/// A private certificate authority and a server certificate it signed for 127.0.0.1 and localhost, written as
/// PEM files to a temp folder of their own (deleted on dispose). Clients trust the CA alone, as a deployment
/// with a private CA would, rather than switching certificate checks off.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string directory, X509Certificate2 authority)
    {
        Directory = directory;
        Authority = authority;
    }

    public string Directory { get; }

    /// <summary>The CA certificate (no key), the file a client is told to trust.</summary>
    public string AuthorityFile => Path.Combine(Directory, "ca.pem");

    /// <summary>The server certificate, PEM.</summary>
    public string CertificateFile => Path.Combine(Directory, "server.pem");

    /// <summary>The server certificate's private key, PKCS#8 PEM.</summary>
    public string KeyFile => Path.Combine(Directory, "server.key");

    /// <summary>A private key that belongs to no certificate here, for mismatch tests.</summary>
    public string OtherKeyFile => Path.Combine(Directory, "other.key");

    public X509Certificate2 Authority { get; }

    public static TestCertificates Create()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("obs-tls-").FullName;
        var now = DateTimeOffset.UtcNow;

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=obs test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, critical: false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var server = serverRequest.Create(ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var certificates = new TestCertificates(directory, X509CertificateLoader.LoadCertificate(ca.RawData));
        File.WriteAllText(certificates.AuthorityFile, ca.ExportCertificatePem());
        File.WriteAllText(certificates.CertificateFile, server.ExportCertificatePem());
        File.WriteAllText(certificates.KeyFile, serverKey.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificates.OtherKeyFile, otherKey.ExportPkcs8PrivateKeyPem());
        return certificates;
    }

    /// <summary>A handler that trusts this CA and nothing else (no revocation list exists for it).</summary>
    public SocketsHttpHandler Handler() => new()
    {
        UseProxy = false,
        SslOptions = new SslClientAuthenticationOptions
        {
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { Authority },
                RevocationMode = X509RevocationMode.NoCheck,
            },
        },
    };

    public HttpClient Client(Uri baseAddress, string? key)
    {
        var client = new HttpClient(Handler()) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public void Dispose()
    {
        Authority.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
