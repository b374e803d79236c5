using System.Security.Cryptography;
using System.Text;
using Observability.Collector.Configuration;

namespace Observability.Collector.Security;

/// <summary>What a key may do. Each scope has its own list of keys (several, for rotation); no key is in two lists.</summary>
public enum KeyScope
{
    /// <summary>OTLP ingest on the OTLP/gRPC and OTLP/HTTP ports.</summary>
    Write,

    /// <summary>Everything on the API port: queries, snapshots, the UI, and /metrics too.</summary>
    Read,

    /// <summary>/metrics only: a scrape credential that cannot read traces, request bodies or snapshots.</summary>
    Metrics,
}

/// <summary>Endpoint metadata: the scopes whose keys an endpoint accepts, when not the default of its port (write on the OTLP ports, read on the API port).</summary>
internal sealed record AcceptsKeys(KeyScope[] Scopes);

/// <summary>The configured keys of all scopes; tells which scope a presented key belongs to.</summary>
internal sealed class KeyRing
{
    private readonly (byte[] Key, KeyScope Scope)[] _keys;

    public KeyRing(CollectorOptions options) => _keys =
    [
        .. Keys(options.WriteKey, KeyScope.Write),
        .. Keys(options.ReadKey, KeyScope.Read),
        .. Keys(options.MetricsKey, KeyScope.Metrics),
    ];

    /// <summary>The scope of <paramref name="presented"/>, or null for an unknown key. Compares with every key in constant time.</summary>
    public KeyScope? ScopeOf(ReadOnlySpan<byte> presented)
    {
        KeyScope? found = null;
        foreach (var (key, scope) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(presented, key))
            {
                found = scope;
            }
        }

        return found;
    }

    private static IEnumerable<(byte[], KeyScope)> Keys(string? list, KeyScope scope) =>
        ApiKeys.Parse(list).Select(k => (Encoding.UTF8.GetBytes(k), scope));
}
