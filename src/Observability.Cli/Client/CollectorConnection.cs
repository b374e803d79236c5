using System.Text.Json;
using Observability.Cli.Commands;

namespace Observability.Cli.Client;

/// <summary>
/// Where the collector's query API is and the read key for it, from the first that gives one: the command line
/// (--collector, --read-key), the environment (OBS_COLLECTOR_URL, OBS_READ_KEY), else what <c>obs up</c> uses on
/// this machine (http://127.0.0.1:8080 and the read key in its data folder's keys.json).
/// </summary>
internal sealed record CollectorConnection(Uri BaseUrl, string ReadKey, string KeySource)
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <exception cref="CollectorClientException">No read key anywhere, or an unusable URL.</exception>
    public static CollectorConnection Resolve(string? url, string? readKey, string dataDirectory)
    {
        var address = NonEmpty(url) ?? NonEmpty(Environment.GetEnvironmentVariable("OBS_COLLECTOR_URL")) ?? DefaultUrl;
        if (!Uri.TryCreate(address, UriKind.Absolute, out var baseUrl) || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new CollectorClientException($"\"{address}\" is not a collector address: give its API port as http(s)://HOST:PORT (--collector or OBS_COLLECTOR_URL)");
        }

        if (NonEmpty(readKey) is { } given)
        {
            return new(baseUrl, given, "--read-key");
        }

        if (NonEmpty(Environment.GetEnvironmentVariable("OBS_READ_KEY")) is { } fromEnvironment)
        {
            return new(baseUrl, FirstKey(fromEnvironment), "OBS_READ_KEY");
        }

        var keysFile = Path.Combine(dataDirectory, "keys.json");
        if (File.Exists(keysFile))
        {
            // Read only: a client must not make keys that no collector knows, as LocalKeys.Load would.
            var keys = JsonSerializer.Deserialize<LocalKeys>(File.ReadAllText(keysFile));
            if (NonEmpty(keys?.ReadKey) is { } saved)
            {
                return new(baseUrl, saved, keysFile);
            }
        }

        throw new CollectorClientException(
            $"no read key: pass --read-key, set OBS_READ_KEY, or run this where `obs up` keeps its data ({keysFile} does not exist or holds no read key)");
    }

    // OBS_READ_KEY may list several keys for the collector (rotation); any one of them reads.
    private static string FirstKey(string keys) => keys.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)[0];

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
