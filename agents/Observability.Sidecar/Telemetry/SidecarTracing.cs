using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Observability.Core.Semantics;
using Observability.Sidecar.Configuration;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Observability.Sidecar.Telemetry;

/// <summary>The sidecar's ActivitySource and the OpenTelemetry SDK pipeline that exports it over OTLP.</summary>
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

        return ResourceBuilder.CreateEmpty()
            .AddService(options.FunctionName!, serviceVersion: options.FunctionVersion, serviceInstanceId: options.Instance)
            .AddAttributes(attributes);
    }

    /// <summary>
    /// Batching OTLP/HTTP export: asynchronous and bounded, so a slow or absent collector never holds a
    /// request; the exporter retries 429/502/503/504 honouring Retry-After. Without an endpoint spans are made but not exported.
    /// </summary>
    public static TracerProvider Build(SidecarOptions options)
    {
        var builder = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(Resource(options))
            .AddSource(SourceName)
            .SetSampler(new AlwaysOnSampler());
        if (options.EffectiveOtlpEndpoint is not { } endpoint)
        {
            return builder.Build();
        }

        if (options.EffectiveSpoolDirectory is { } spool)
        {
            // The exporter reads its (experimental) disk-retry settings from configuration; giving the SDK its
            // own configuration keeps them out of the process environment the function inherits.
            Directory.CreateDirectory(spool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var configuration = new ConfigurationBuilder()
                .AddEnvironmentVariables()
                .AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "disk",
                    ["OTEL_DOTNET_EXPERIMENTAL_OTLP_DISK_RETRY_DIRECTORY_PATH"] = spool,
                })
                .Build();
            builder.ConfigureServices(services => services.AddSingleton<IConfiguration>(configuration));
        }

        return builder.AddOtlpExporter(o =>
        {
            o.Protocol = OtlpExportProtocol.HttpProtobuf;
            o.Endpoint = new Uri(endpoint, "v1/traces");
            o.Headers = options.OtlpHeaders ?? Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_HEADERS");
            o.BatchExportProcessorOptions = new BatchExportProcessorOptions<Activity>
            {
                MaxQueueSize = 8192,
                ScheduledDelayMilliseconds = 200,
                MaxExportBatchSize = 512,
            };
        }).Build();
    }
}
