using System.Diagnostics;
using Observability.Otlp.Semantics;
using Observability.Sidecar.Configuration;
using OpenTelemetry.Resources;

namespace Observability.Sidecar.Telemetry;

/// <summary>The sidecar's ActivitySource and the resource that names the function in everything it exports.</summary>
public static class SidecarTracing
{
    public const string SourceName = "Observability.Sidecar";

    /// <summary>
    /// Static, as OpenTelemetry recommends. Not registered in DI on purpose: ASP.NET Core's hosting takes an
    /// ActivitySource from DI for its own request activities, which would then be exported as ours.
    /// </summary>
    public static readonly ActivitySource Source = new(SourceName);

    public static ResourceBuilder Resource(SidecarOptions options)
    {
        var attributes = new List<KeyValuePair<string, object>>
        {
            new(FaasConventions.FaasName, options.FunctionName!),
            new(FaasConventions.FaasVersion, options.FunctionVersion),
            new(FaasConventions.FaasInstance, options.Instance),
        };
        if (options.MaxMemoryBytes is { } memory)
        {
            attributes.Add(new(FaasConventions.FaasMaxMemory, memory));
        }

        if (options.EffectiveAdvertiseUrl is { } warmUpUrl)
        {
            attributes.Add(new(ObsConventions.WarmUpUrl, warmUpUrl.ToString()));
        }

        return ResourceBuilder.CreateEmpty()
            .AddService(options.FunctionName!, serviceVersion: options.FunctionVersion, serviceInstanceId: options.Instance)
            .AddAttributes(attributes);
    }
}
