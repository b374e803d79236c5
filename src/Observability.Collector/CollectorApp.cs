using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Observability.Collector.Configuration;
using Observability.Collector.Ingest;
using Observability.Collector.Metrics;
using Observability.Collector.Query;
using Observability.Collector.Receivers;
using Observability.Collector.Security;
using Observability.Collector.Storage;
using Observability.Collector.Ui;
using Observability.Hosting;
using Prometheus;

namespace Observability.Collector;

/// <summary>Builds the collector as a web application: used by its own Program, by `obs up` and by the tests.</summary>
public static class CollectorApp
{
    /// <exception cref="OptionsValidationException">A setting is missing or wrong; the message names it.</exception>
    public static WebApplication Build(string[] args, Action<CollectorOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var options = ReadOptions(builder.Configuration, configure);
        var tls = ServerCertificate.Load(options);

        var listeners = new Dictionary<ListenerRole, Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = IPAddress.Parse(options.ListenAddress);
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            void Listen(ListenerRole role, int port, HttpProtocols protocols) => kestrel.Listen(address, port, l =>
            {
                l.Protocols = protocols;
                if (tls is not null)
                {
                    l.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = tls.Certificate, ServerCertificateChain = tls.Chain });
                }

                l.Use(next => connection =>
                {
                    Listeners.Tag(connection, role);
                    return next(connection);
                });
                listeners[role] = l;
            });
            // gRPC needs HTTP/2: without TLS HTTP/2 only (prior knowledge), as OTLP/gRPC clients speak it; with TLS
            // ALPN picks h2. The other ports offer HTTP/2 beside HTTP/1.1 only over TLS, where ALPN can choose.
            var web = tls is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
            Listen(ListenerRole.OtlpGrpc, options.OtlpGrpcPort, HttpProtocols.Http2);
            Listen(ListenerRole.OtlpHttp, options.OtlpHttpPort, web);
            Listen(ListenerRole.Api, options.HttpPort, web);
        });

        var services = builder.Services;
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(new CollectorListeners(listeners));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Prometheus.Metrics.NewCustomRegistry());
        services.AddSingleton(sp => new CollectorMetrics(sp.GetRequiredService<CollectorRegistry>()));
        services.AddSingleton(sp => new FunctionMetrics(sp.GetRequiredService<CollectorRegistry>()));
        services.AddSingleton(_ =>
        {
            var cs = new NpgsqlConnectionStringBuilder(DatabaseUrls.ToConnectionString(options.DatabaseUrl!)) { ApplicationName = "obs-collector" };
            return NpgsqlDataSource.Create(cs.ConnectionString);
        });
        services.AddSingleton<SchemaMigrator>();
        services.AddSingleton<Partitions>();
        services.AddSingleton(sp => new IngestQueue(options.QueueCapacity, sp.GetRequiredService<CollectorMetrics>()));
        services.AddSingleton<IngestService>();
        services.AddSingleton<OtlpHttpReceiver>();
        services.AddSingleton<DumpStore>();
        services.AddSingleton<DumpReceiver>();
        services.AddKeyedSingleton(QueryDatabase.Key, (_, _) => QueryDatabase.Create(DatabaseUrls.ToConnectionString(options.DatabaseUrl!), options.QueryTimeout));
        services.AddSingleton<TraceStore>();
        services.AddSingleton<SnapshotStore>();
        services.AddHostedService<DatabaseStartup>();
        services.AddHostedService<BatchWriter>();
        services.AddHostedService<RetentionService>();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxRequestBodyBytes;
            grpc.EnableDetailedErrors = false;
        });
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull);

        var app = builder.Build();
        app.Use((http, next) =>
        {
            // On the gRPC port the cap is gRPC's MaxReceiveMessageSize (answered RESOURCE_EXHAUSTED); Kestrel's
            // body limit would also count the 5-byte frame prefix and fail as UNKNOWN.
            if (Listeners.RoleOf(http) == ListenerRole.OtlpGrpc && http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = null;
            }

            return next(http);
        });
        app.UseRouting();
        app.UseMiddleware<QueryErrors>();
        app.UseMiddleware<ApiKeyMiddleware>();

        var receiver = app.Services.GetRequiredService<OtlpHttpReceiver>();
        app.MapPost("/v1/traces", receiver.TracesAsync).WithMetadata(new ServedOn(ListenerRole.OtlpHttp));
        app.MapPost("/v1/logs", receiver.LogsAsync).WithMetadata(new ServedOn(ListenerRole.OtlpHttp));
        app.MapPut("/v1/dumps/{dumpId}", app.Services.GetRequiredService<DumpReceiver>().PutAsync).WithMetadata(new ServedOn(ListenerRole.OtlpHttp));
        app.MapGrpcService<OtlpGrpcTraceService>().WithMetadata(new ServedOn(ListenerRole.OtlpGrpc));
        app.MapGrpcService<OtlpGrpcLogsService>().WithMetadata(new ServedOn(ListenerRole.OtlpGrpc));

        var time = app.Services.GetRequiredService<TimeProvider>();
        app.MapQueryApi(time).WithMetadata(new ServedOn(ListenerRole.Api));
        app.MapJaegerApi(time).WithMetadata(new ServedOn(ListenerRole.Api));
        app.MapSliApi(time).WithMetadata(new ServedOn(ListenerRole.Api));
        app.MapMetrics("/metrics", app.Services.GetRequiredService<CollectorRegistry>())
            .WithMetadata(new ServedOn(ListenerRole.Api), new AcceptsKeys([KeyScope.Metrics, KeyScope.Read]));
        app.MapWebUi().WithMetadata(new ServedOn(ListenerRole.Api));
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).WithMetadata(new ServedOn(ListenerRole.Api), new Anonymous());
        return app;
    }

    /// <summary>Reads the "Collector" section, then the OBS_* variables over it, then <paramref name="configure"/>; validates all of it.</summary>
    public static CollectorOptions ReadOptions(IConfiguration configuration, Action<CollectorOptions>? configure = null)
    {
        var options = new CollectorOptions();
        configuration.GetSection(CollectorOptions.Section).Bind(options);
        options.DatabaseUrl = configuration["OBS_DATABASE_URL"] ?? options.DatabaseUrl;
        options.WriteKey = configuration["OBS_WRITE_KEY"] ?? options.WriteKey;
        options.ReadKey = configuration["OBS_READ_KEY"] ?? options.ReadKey;
        options.MetricsKey = configuration["OBS_METRICS_KEY"] ?? options.MetricsKey;
        configure?.Invoke(options);

        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
        {
            throw new OptionsValidationException(CollectorOptions.Section, typeof(CollectorOptions), errors.Select(e => e.ErrorMessage ?? "invalid"));
        }

        return options;
    }
}

/// <summary>The bound ports, known once the app has started (port 0 in the settings means "any free port").</summary>
public sealed class CollectorListeners(IReadOnlyDictionary<ListenerRole, Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> listeners)
{
    public int Port(ListenerRole role) => listeners[role].IPEndPoint!.Port;
}
