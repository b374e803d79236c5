using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Observability.Collector;
using Observability.Collector.Configuration;
using Observability.Sidecar;
using Observability.Sidecar.Configuration;
using Observability.Testing;
using Observability.WarmUp.Scheduling;

namespace Observability.Deploy.Tests.Model;

/// <summary>
/// One of the suite's programs as an image: its options read by the program's own reader from an environment, the
/// ports those options give (by the port names the manifests use), and the port its health routes are served on.
/// </summary>
internal sealed class SuiteProgram
{
    private readonly Func<IConfiguration, object> _read;
    private readonly Func<object, IReadOnlyDictionary<string, int>> _ports;

    private SuiteProgram(string image, string section, Type optionsType, Func<IConfiguration, object> read, Func<object, IReadOnlyDictionary<string, int>> ports, string healthPort)
    {
        Image = image;
        Section = section;
        OptionsType = optionsType;
        _read = read;
        _ports = ports;
        HealthPort = healthPort;
    }

    /// <summary>Image names as CONTRACTS.md fixes them.</summary>
    public static SuiteProgram Collector { get; } = new("obs-collector", CollectorOptions.Section, typeof(CollectorOptions),
        c => CollectorApp.ReadOptions(c),
        o => o is CollectorOptions c ? new Dictionary<string, int> { ["otlp-grpc"] = c.OtlpGrpcPort, ["otlp-http"] = c.OtlpHttpPort, ["http"] = c.HttpPort } : throw new ArgumentException(null, nameof(o)),
        healthPort: "http");

    public static SuiteProgram WarmUp { get; } = new("obs-warmup", WarmUpOptions.Section, typeof(WarmUpOptions),
        c => WarmUpScheduler.ReadOptions(c),
        o => o is WarmUpOptions w ? new Dictionary<string, int> { ["http"] = w.Port } : throw new ArgumentException(null, nameof(o)),
        healthPort: "http");

    public static SuiteProgram Sidecar { get; } = new("obs-sidecar", SidecarOptions.Section, typeof(SidecarOptions),
        c => SidecarApp.ReadOptions(c),
        o => o is SidecarOptions s ? new Dictionary<string, int> { ["proxy"] = s.Port, ["admin"] = s.AdminPort } : throw new ArgumentException(null, nameof(o)),
        healthPort: "admin");

    public static IReadOnlyList<SuiteProgram> All { get; } = [Collector, WarmUp, Sidecar];

    public static SuiteProgram? ForImage(string image) => All.SingleOrDefault(p => p.Image == image);

    public string Image { get; }

    public string Section { get; }

    public Type OptionsType { get; }

    /// <summary>The name of the port (in <see cref="Ports"/>) that serves /healthz and the other health routes.</summary>
    public string HealthPort { get; }

    /// <summary>The options the program would run with, given these environment variables (throws as the program would).</summary>
    public object Read(IReadOnlyDictionary<string, string> environment) => _read(Configuration(environment));

    public IReadOnlyDictionary<string, int> Ports(object options) => _ports(options);

    /// <summary>The Dockerfile that builds this image, as deploy/docker-compose.yml builds it.</summary>
    public Dockerfile Dockerfile(ComposeFile compose) => Model.Dockerfile.Load(Path.Combine(RepositoryFiles.Root, compose.ServiceWithImage(Image).Dockerfile!));

    /// <summary>
    /// Whether the program reads <paramref name="name"/>: a Section__Property variable names a property of the options
    /// class; any other must change what the reader makes of <paramref name="environment"/> when it is left out.
    /// </summary>
    public bool Reads(string name, IReadOnlyDictionary<string, string> environment)
    {
        var path = name.Split("__");
        if (path.Length > 1)
        {
            return string.Equals(path[0], Section, StringComparison.OrdinalIgnoreCase)
                && OptionsType.GetProperty(path[1], System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase) is not null;
        }

        var with = Describe(environment);
        var without = Describe(environment.Where(kv => kv.Key != name).ToDictionary(StringComparer.Ordinal));
        return with != without;
    }

    private string Describe(IReadOnlyDictionary<string, string> environment)
    {
        try
        {
            return JsonSerializer.Serialize(Read(environment), OptionsType);
        }
        catch (OptionsValidationException e)
        {
            return "invalid: " + string.Join("; ", e.Failures);
        }
    }

    /// <summary>Environment variables as .NET's environment configuration provider maps them ("__" is ":").</summary>
    private static IConfiguration Configuration(IReadOnlyDictionary<string, string> environment) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(kv => KeyValuePair.Create(kv.Key.Replace("__", ":", StringComparison.Ordinal), (string?)kv.Value)))
            .Build();
}
