using System.Text.Json;

namespace Observability.Cli.Commands;

/// <summary>
/// The keys a sidecar started by `obs attach` needs: OBS_WRITE_KEY (and OBS_WARMUP_TOKEN) when set, else those the
/// running suite keeps in its data folder (keys.json). Never made up: a sidecar with keys the collector does not
/// know would only be refused.
/// </summary>
internal sealed record AttachKeys(string WriteKey, string? WarmUpToken)
{
    public static AttachKeys Find(IEnumerable<string> folders)
    {
        var token = Environment.GetEnvironmentVariable("OBS_WARMUP_TOKEN") is { Length: > 0 } t ? t : null;
        if (Environment.GetEnvironmentVariable("OBS_WRITE_KEY") is { Length: > 0 } write)
        {
            return new AttachKeys(write, token);
        }

        foreach (var folder in folders)
        {
            var path = Path.Combine(folder, "keys.json");
            if (File.Exists(path) && JsonSerializer.Deserialize<LocalKeys>(File.ReadAllText(path)) is { } keys)
            {
                return new AttachKeys(keys.WriteKey, token ?? keys.WarmUpToken);
            }
        }

        throw new InvalidOperationException($"No write key: start the suite first (./obs up or ./obs demo, which keep their keys in {string.Join(" or ", folders)}), or set OBS_WRITE_KEY.");
    }
}
