using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Observability.Sidecar.Proxy;

/// <summary>
/// Tells a warm-up ping from an invocation: the warm-up header counts only when its value is the sidecar's token,
/// so no client can hide its traffic from the invocation counts and SLOs by adding a header. With no token
/// configured nothing is a ping. The token never goes further: the header is rewritten before the request is
/// forwarded or captured, to "1" for a real ping (the function may answer it cheaply) and removed otherwise.
/// </summary>
internal sealed class WarmUpGate
{
    /// <summary>Response header of a warm-up ping's answer: whether the ping found the function cold.</summary>
    public const string ColdHeader = "X-Obs-Warmup-Cold";

    // Longer values are not tokens: refused before any hashing.
    private const int MaxTokenBytes = 1024;
    private static readonly StringValues Ping = "1";

    private readonly string _header;
    private readonly byte[]? _tokenHash;

    public WarmUpGate(string header, string? token)
    {
        _header = header;
        _tokenHash = string.IsNullOrEmpty(token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    /// <summary>Whether the request is a real warm-up ping; rewrites the header either way (see the class).</summary>
    public bool Admit(IHeaderDictionary headers)
    {
        if (!headers.TryGetValue(_header, out var values))
        {
            return false; // every ordinary request: one header lookup
        }

        var admitted = _tokenHash is not null && values.Count == 1 && Matches(values[0]);
        if (admitted)
        {
            headers[_header] = Ping;
        }
        else
        {
            headers.Remove(_header);
        }

        return admitted;
    }

    /// <remarks>Compares digests in constant time, so neither the token's bytes nor its length leak through timing.</remarks>
    private bool Matches(string? value)
    {
        if (value is null || value.Length > MaxTokenBytes || Encoding.UTF8.GetByteCount(value) > MaxTokenBytes)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[MaxTokenBytes];
        var length = Encoding.UTF8.GetBytes(value, bytes);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes[..length], hash);
        return CryptographicOperations.FixedTimeEquals(hash, _tokenHash);
    }
}
