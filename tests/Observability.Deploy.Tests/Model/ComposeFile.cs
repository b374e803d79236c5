using System.Globalization;
using System.Text.RegularExpressions;

namespace Observability.Deploy.Tests.Model;

/// <summary>One service of deploy/docker-compose.yml, its variables interpolated from deploy/.env.example.</summary>
internal sealed record ComposeService(
    string Name,
    string? Image,
    string? Dockerfile,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<(int Host, int Container)> Ports,
    IReadOnlyList<(string Source, string Target)> Volumes,
    string? NetworkMode,
    string? Pid,
    IReadOnlyList<string> Secrets);

/// <summary>deploy/docker-compose.yml read as Compose would, with the example .env file's values.</summary>
internal sealed partial class ComposeFile
{
    private ComposeFile(Dictionary<object, object?> root, IReadOnlySet<string> variables, IReadOnlyList<string> missing)
    {
        Root = root;
        Variables = variables;
        Missing = missing;
        Services = root.Map("services")!.ToDictionary(s => (string)s.Key, s => ReadService((string)s.Key, (Dictionary<object, object?>)s.Value!), StringComparer.Ordinal);
    }

    public Dictionary<object, object?> Root { get; }

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    /// <summary>Every variable the file refers to (${NAME}).</summary>
    public IReadOnlySet<string> Variables { get; }

    /// <summary>Variables the file refers to without a default that the .env file does not give.</summary>
    public IReadOnlyList<string> Missing { get; }

    public static ComposeFile Load(string path, IReadOnlyDictionary<string, string> dotEnv)
    {
        var variables = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        var root = (Dictionary<object, object?>)Interpolate(Yaml.Load(path), dotEnv, variables, missing)!;
        return new ComposeFile(root, variables, missing);
    }

    public ComposeService ServiceWithImage(string image) => Services.Values.Single(s => s.Image == image);

    private static object? Interpolate(object? node, IReadOnlyDictionary<string, string> env, HashSet<string> variables, List<string> missing) => node switch
    {
        string text => VariablePattern().Replace(text, m =>
        {
            if (m.Value == "$$")
            {
                return "$";
            }

            var name = m.Groups["name"].Value;
            variables.Add(name);
            if (env.TryGetValue(name, out var value) && (value.Length > 0 || !m.Groups["op"].Value.StartsWith(':')))
            {
                return value;
            }

            if (m.Groups["op"].Value.EndsWith('-'))
            {
                return m.Groups["arg"].Value;
            }

            missing.Add(name);
            return string.Empty;
        }),
        Dictionary<object, object?> map => map.ToDictionary(kv => kv.Key, kv => Interpolate(kv.Value, env, variables, missing)),
        List<object?> list => list.Select(item => Interpolate(item, env, variables, missing)).ToList(),
        _ => node,
    };

    private static ComposeService ReadService(string name, Dictionary<object, object?> service)
    {
        var environment = service.TryGetValue("environment", out var env) switch
        {
            true when env is Dictionary<object, object?> map => map.ToDictionary(kv => (string)kv.Key, kv => kv.Value as string ?? string.Empty, StringComparer.Ordinal),
            true when env is List<object?> list => list.OfType<string>().Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty, StringComparer.Ordinal),
            _ => new Dictionary<string, string>(StringComparer.Ordinal),
        };
        var ports = service.Strings("ports")
            .Select(p => p.Split(':'))
            .Select(p => (int.Parse(p[^2], CultureInfo.InvariantCulture), int.Parse(p[^1].Split('/')[0], CultureInfo.InvariantCulture)))
            .ToList();
        var volumes = service.Strings("volumes").Select(v => v.Split(':')).Select(v => (v[0], v[1])).ToList();
        return new ComposeService(
            name,
            service.Str("image"),
            service.Map("build")?.Str("dockerfile"),
            environment,
            ports,
            volumes,
            service.Str("network_mode"),
            service.Str("pid"),
            [.. service.Strings("secrets")]);
    }

    [GeneratedRegex(@"\$\$|\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:?[-?])(?<arg>[^}]*))?\}")]
    private static partial Regex VariablePattern();
}
