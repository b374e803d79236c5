using System.Globalization;
using System.Text.RegularExpressions;
using Observability.Testing;

namespace Observability.Deploy.Tests.Model;

/// <summary>One Kubernetes (or Knative) object from a manifest file.</summary>
internal sealed record KubeObject(string File, Dictionary<object, object?> Root)
{
    public string Kind => Root.Str("kind") ?? string.Empty;

    public string Name => Root.Map("metadata")?.Str("name") ?? string.Empty;

    /// <summary>The pod template's spec of a workload (Deployment, StatefulSet, Knative Service), else null.</summary>
    public Dictionary<object, object?>? PodSpec => Root.At("spec.template.spec");

    public Dictionary<object, object?>? PodMetadata => Root.At("spec.template.metadata");

    public IEnumerable<KubeContainer> Containers =>
        PodSpec is not { } pod ? []
        : pod.Maps("initContainers").Select(c => new KubeContainer(this, c, IsInit: true))
            .Concat(pod.Maps("containers").Select(c => new KubeContainer(this, c, IsInit: false)));
}

/// <summary>A container of a pod template.</summary>
internal sealed partial record KubeContainer(KubeObject Owner, Dictionary<object, object?> Spec, bool IsInit)
{
    public string Name => Spec.Str("name")!;

    /// <summary>The image without tag or registry: the name the suite's images go by.</summary>
    public string Image => Spec.Str("image")!.Split('/')[^1].Split(':')[0];

    public string Where => $"{Path.GetFileName(Owner.File)}: {Owner.Kind} {Owner.Name}, container {Name}";

    public IReadOnlyDictionary<string, int> Ports =>
        Spec.Maps("ports").ToDictionary(p => p.Str("name") ?? p.Str("containerPort")!, p => int.Parse(p.Str("containerPort")!, CultureInfo.InvariantCulture), StringComparer.Ordinal);

    public IReadOnlyList<Dictionary<object, object?>> Env => [.. Spec.Maps("env")];

    /// <summary>startupProbe, readinessProbe, livenessProbe: the kind and its httpGet (path, port, scheme).</summary>
    public IEnumerable<(string Kind, string Path, string Port, string Scheme)> HttpProbes =>
        new[] { "startupProbe", "readinessProbe", "livenessProbe" }
            .Select(kind => (kind, get: Spec.Map(kind)?.Map("httpGet")))
            .Where(p => p.get is not null)
            .Select(p => (p.kind, p.get!.Str("path") ?? "/", p.get!.Str("port")!, p.get!.Str("scheme") ?? "HTTP"));

    /// <summary>A probe's port (a name or a number) as a number, by this container's ports.</summary>
    public int ResolvePort(string port) =>
        int.TryParse(port, CultureInfo.InvariantCulture, out var number) ? number
        : Ports.TryGetValue(port, out var named) ? named
        : throw new InvalidOperationException($"{Where}: no port named {port}");

    /// <summary>
    /// The environment the program sees: the image's ENV, then the container's variables, Secret references resolved
    /// from <paramref name="secrets"/> and $(NAME) expanded from earlier variables, as the kubelet does.
    /// </summary>
    public Dictionary<string, string> EffectiveEnvironment(IReadOnlyDictionary<string, string> imageEnv, KubeSecrets secrets)
    {
        var env = new Dictionary<string, string>(imageEnv, StringComparer.Ordinal);
        var own = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in Env)
        {
            var name = variable.Str("name")!;
            string value;
            if (variable.Str("value") is { } literal)
            {
                value = ReferencePattern().Replace(literal, m => own.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);
            }
            else if (variable.At("valueFrom.secretKeyRef") is { } secret)
            {
                value = secrets.Value(secret.Str("name")!, secret.Str("key")!) ?? throw new InvalidOperationException($"{Where}: {name} refers to Secret {secret.Str("name")} key {secret.Str("key")}, which is not generated");
            }
            else
            {
                value = "from-field";
            }

            // A path into a mounted Secret becomes a local file with that Secret item's content.
            value = SecretFile(value, secrets) ?? value;
            own[name] = value;
            env[name] = value;
        }

        return env;
    }

    /// <summary>
    /// For a path under a mounted Secret volume: a local file standing for that item (throws when the Secret or the
    /// item is not generated); null for any other value.
    /// </summary>
    private string? SecretFile(string value, KubeSecrets secrets)
    {
        foreach (var (mountPath, volumeName) in Mounts)
        {
            if (!value.StartsWith(mountPath.TrimEnd('/') + "/", StringComparison.Ordinal))
            {
                continue;
            }

            var volume = Owner.PodSpec!.Maps("volumes").Single(v => v.Str("name") == volumeName);
            if (volume.Map("secret") is not { } secret)
            {
                return null;
            }

            var itemPath = value[(mountPath.TrimEnd('/').Length + 1)..];
            var items = secret.Maps("items").ToList();
            var key = items.Count == 0 ? itemPath : items.SingleOrDefault(i => i.Str("path") == itemPath)?.Str("key")
                ?? throw new InvalidOperationException($"{Where}: {value} is not an item of the Secret volume {volumeName}");
            return secrets.LocalFile(secret.Str("secretName")!, key)
                ?? throw new InvalidOperationException($"{Where}: {value} is Secret {secret.Str("secretName")} key {key}, which is not generated");
        }

        return null;
    }

    /// <summary>The variables that other variables of this container refer to as $(NAME): set to be expanded, not read.</summary>
    public IReadOnlySet<string> ExpansionOnly =>
        Env.Select(v => v.Str("value")).OfType<string>().SelectMany(v => ReferencePattern().Matches(v).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);

    /// <summary>Where each mounted volume appears in this container: mount path to volume name.</summary>
    public IReadOnlyDictionary<string, string> Mounts =>
        Spec.Maps("volumeMounts").ToDictionary(m => m.Str("mountPath")!, m => m.Str("name")!, StringComparer.Ordinal);

    /// <summary>The container's securityContext over the pod's (as Kubernetes combines them for these fields).</summary>
    public string? Security(string field) =>
        Spec.Map("securityContext")?.Str(field) ?? Owner.PodSpec?.Map("securityContext")?.Str(field);

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex ReferencePattern();
}

/// <summary>The Secrets kustomize generates (kustomization.yaml's secretGenerator), keys and example values.</summary>
internal sealed class KubeSecrets : IDisposable
{
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _secrets = new(StringComparer.Ordinal);
    private readonly HashSet<string> _tlsSecrets = new(StringComparer.Ordinal);
    private readonly Lazy<TestCertificates> _certificates = new(TestCertificates.Create);

    /// <summary>The generator's env files are read from their committed examples (keys.env from keys.env.example).</summary>
    public KubeSecrets(string kustomizationDirectory, Dictionary<object, object?> kustomization)
    {
        foreach (var generator in kustomization.Maps("secretGenerator"))
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var envFile in generator.Strings("envs"))
            {
                foreach (var (key, value) in EnvFile.Load(Path.Combine(kustomizationDirectory, envFile + ".example")))
                {
                    values[key] = value;
                }
            }

            foreach (var file in generator.Strings("files"))
            {
                var parts = file.Split('=', 2);
                values[parts[0]] = $"(file {(parts.Length > 1 ? parts[1] : parts[0])})";
            }

            foreach (var literal in generator.Strings("literals"))
            {
                var parts = literal.Split('=', 2);
                values[parts[0]] = parts[1];
            }

            _secrets[generator.Str("name")!] = values;
            if (generator.Str("type") == "kubernetes.io/tls")
            {
                _tlsSecrets.Add(generator.Str("name")!);
            }
        }
    }

    public IReadOnlyCollection<string> Names => _secrets.Keys;

    public IReadOnlyDictionary<string, string> Keys(string secret) => _secrets[secret];

    /// <summary>
    /// A local file for a Secret item mounted as a file. A TLS Secret's tls.crt, tls.key and ca.crt (the
    /// kubernetes.io/tls and cert-manager names) are a test certificate, its key and its CA.
    /// </summary>
    public string? LocalFile(string secret, string key)
    {
        if (Value(secret, key) is not { } value)
        {
            return null;
        }

        if (_tlsSecrets.Contains(secret))
        {
            var tls = _certificates.Value;
            return key switch
            {
                "tls.crt" => tls.CertificateFile,
                "tls.key" => tls.KeyFile,
                "ca.crt" => tls.AuthorityFile,
                _ => null,
            };
        }

        var file = Path.Combine(Path.GetTempPath(), $"obs-deploy-{secret}-{key}-{Environment.ProcessId}");
        File.WriteAllText(file, value);
        return file;
    }

    public void Dispose()
    {
        if (_certificates.IsValueCreated)
        {
            _certificates.Value.Dispose();
        }
    }

    public string? Value(string secret, string key) =>
        _secrets.TryGetValue(secret, out var keys) && keys.TryGetValue(key, out var value) ? value : null;
}

/// <summary>deploy/kubernetes (its kustomization and what it lists), deploy/kubernetes/monitoring and deploy/knative.</summary>
internal sealed class KubeManifests
{
    public static string Directory => Path.Combine(RepositoryFiles.Root, "deploy", "kubernetes");

    public static string KnativeDirectory => Path.Combine(RepositoryFiles.Root, "deploy", "knative");

    public KubeManifests()
    {
        Kustomization = Yaml.Load(Path.Combine(Directory, "kustomization.yaml"));
        Secrets = new KubeSecrets(Directory, Kustomization);
        Objects = [.. Kustomization.Strings("resources").Select(r => Path.Combine(Directory, r))
            .Concat(Yaml.Load(Path.Combine(Directory, "monitoring", "kustomization.yaml")).Strings("resources").Select(r => Path.Combine(Directory, "monitoring", r)))
            .Concat(System.IO.Directory.GetFiles(KnativeDirectory, "*.yaml"))
            .SelectMany(file => Yaml.LoadAll(file).Select(root => new KubeObject(file, root)))];
    }

    public Dictionary<object, object?> Kustomization { get; }

    public KubeSecrets Secrets { get; }

    public IReadOnlyList<KubeObject> Objects { get; }

    public IEnumerable<KubeContainer> Containers => Objects.SelectMany(o => o.Containers);

    public KubeObject Single(string kind, string name) => Objects.Single(o => o.Kind == kind && o.Name == name);
}
