using System.Security.Cryptography;
using System.Text.Json;

namespace Observability.Cli.Commands;

/// <summary>
/// The write, read and metrics keys of a local suite, and the warm-up token its sidecars accept pings with: from
/// OBS_WRITE_KEY / OBS_READ_KEY (and the optional OBS_METRICS_KEY, OBS_WARMUP_TOKEN) when set, otherwise generated
/// once and kept in the data folder (keys.json, readable only by its owner) so that they survive restarts. A
/// keys.json from before metrics keys or warm-up tokens gets them added.
/// </summary>
internal sealed record LocalKeys(string WriteKey, string ReadKey, string? MetricsKey, string? WarmUpToken)
{
    public static LocalKeys Load(string dataDirectory)
    {
        var write = Environment.GetEnvironmentVariable("OBS_WRITE_KEY");
        var read = Environment.GetEnvironmentVariable("OBS_READ_KEY");
        if (!string.IsNullOrEmpty(write) && !string.IsNullOrEmpty(read))
        {
            var metrics = Environment.GetEnvironmentVariable("OBS_METRICS_KEY");
            var token = Environment.GetEnvironmentVariable("OBS_WARMUP_TOKEN");
            return new LocalKeys(write, read, string.IsNullOrEmpty(metrics) ? null : metrics, string.IsNullOrEmpty(token) ? null : token);
        }

        var path = Path.Combine(dataDirectory, "keys.json");
        if (File.Exists(path))
        {
            var saved = JsonSerializer.Deserialize<LocalKeys>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty: delete it to make new keys.");
            if (saved.MetricsKey is not null && saved.WarmUpToken is not null)
            {
                return saved;
            }

            var upgraded = saved with { MetricsKey = saved.MetricsKey ?? NewMetricsKey(), WarmUpToken = saved.WarmUpToken ?? NewWarmUpToken() };
            Save(path, upgraded);
            return upgraded;
        }

        var keys = new LocalKeys("w_" + NewSecret(), "r_" + NewSecret(), NewMetricsKey(), NewWarmUpToken());
        Directory.CreateDirectory(dataDirectory);
        Save(path, keys);
        return keys;
    }

    private static void Save(string path, LocalKeys keys)
    {
        // Written aside and renamed, mode 0600 from the start, so that the keys are never readable by others.
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temp, options))
        {
            JsonSerializer.Serialize(file, keys);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static string NewMetricsKey() => "m_" + NewSecret();

    private static string NewWarmUpToken() => "t_" + NewSecret();

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
