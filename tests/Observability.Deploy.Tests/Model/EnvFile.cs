namespace Observability.Deploy.Tests.Model;

/// <summary>A KEY=value file (Compose's .env, kustomize's secretGenerator envs): comments and blank lines skipped.</summary>
internal static class EnvFile
{
    public static IReadOnlyDictionary<string, string> Load(string path) =>
        File.ReadAllLines(path)
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0].Trim(), pair => pair.Length > 1 ? pair[1].Trim() : string.Empty, StringComparer.Ordinal);
}
