using System.Text.RegularExpressions;

namespace Observability.Deploy.Tests.Model;

/// <summary>What a Dockerfile's final (runtime) stage says: ENV, EXPOSE, USER, HEALTHCHECK, ENTRYPOINT.</summary>
internal sealed partial record Dockerfile(
    string Path,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyList<int> Exposed,
    string? User,
    string? HealthCheck,
    string? Entrypoint)
{
    /// <summary>The port the health check connects to: the default of the variable it reads (${Name:-port}).</summary>
    public (string Variable, int Port)? HealthPort =>
        HealthCheck is not null && HealthPortPattern().Match(HealthCheck) is { Success: true } m
            ? (m.Groups["var"].Value, int.Parse(m.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture))
            : null;

    /// <summary>The paths the health check requests.</summary>
    public IReadOnlyList<string> HealthPaths =>
        HealthCheck is null ? [] : [.. HealthPathPattern().Matches(HealthCheck).Select(m => m.Groups["path"].Value).Distinct()];

    public static Dockerfile Load(string path)
    {
        // Continuation lines joined, comments dropped; only the instructions after the last FROM describe the image.
        var lines = new List<string>();
        var current = string.Empty;
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && current.Length == 0))
            {
                continue;
            }

            current += line.EndsWith('\\') ? line[..^1] + " " : line;
            if (!line.EndsWith('\\'))
            {
                lines.Add(current.Trim());
                current = string.Empty;
            }
        }

        var runtime = lines.Skip(lines.FindLastIndex(l => l.StartsWith("FROM ", StringComparison.OrdinalIgnoreCase))).ToList();
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var exposed = new List<int>();
        string? user = null, health = null, entrypoint = null;
        foreach (var line in runtime)
        {
            var (instruction, rest) = line.Split(' ', 2) is [var i, var r] ? (i.ToUpperInvariant(), r.Trim()) : (line.ToUpperInvariant(), string.Empty);
            switch (instruction)
            {
                case "ENV":
                    foreach (Match m in EnvPairPattern().Matches(rest))
                    {
                        env[m.Groups["name"].Value] = m.Groups["value"].Value.Trim('"');
                    }

                    break;
                case "EXPOSE":
                    exposed.AddRange(rest.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture)));
                    break;
                case "USER":
                    user = rest;
                    break;
                case "HEALTHCHECK":
                    health = rest;
                    break;
                case "ENTRYPOINT":
                    entrypoint = rest;
                    break;
            }
        }

        return new Dockerfile(path, env, exposed, user, health, entrypoint);
    }

    [GeneratedRegex(@"(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<value>""[^""]*""|\S+)")]
    private static partial Regex EnvPairPattern();

    [GeneratedRegex(@"127\.0\.0\.1[:/]\$\{(?<var>\w+):-(?<port>\d+)\}")]
    private static partial Regex HealthPortPattern();

    [GeneratedRegex(@"(?:GET |\})(?<path>/[A-Za-z0-9_/.-]+)")]
    private static partial Regex HealthPathPattern();
}
