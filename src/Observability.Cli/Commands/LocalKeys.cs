using System.Security.Cryptography;
using System.Text.Json;

namespace Observability.Cli.Commands;

/// <summary>
/// The write and read keys of a local suite: from OBS_WRITE_KEY / OBS_READ_KEY when set, otherwise
/// generated once and kept in the data folder (keys.json, readable only by its owner) so that they survive restarts.
/// </summary>
internal sealed record LocalKeys(string WriteKey, string ReadKey)
{
    public static LocalKeys Load(string dataDirectory)
    {
        var write = Environment.GetEnvironmentVariable("OBS_WRITE_KEY");
        var read = Environment.GetEnvironmentVariable("OBS_READ_KEY");
        if (!string.IsNullOrEmpty(write) && !string.IsNullOrEmpty(read))
        {
            return new LocalKeys(write, read);
        }

        var path = Path.Combine(dataDirectory, "keys.json");
        if (File.Exists(path))
        {
            return JsonSerializer.Deserialize<LocalKeys>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty: delete it to make new keys.");
        }

        var keys = new LocalKeys("w_" + NewSecret(), "r_" + NewSecret());
        Directory.CreateDirectory(dataDirectory);
        File.WriteAllText(path, JsonSerializer.Serialize(keys));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return keys;
    }

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
