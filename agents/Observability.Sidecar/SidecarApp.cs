using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Observability.Sidecar.Configuration;
using Observability.Sidecar.Proxy;
using Observability.Sidecar.Snapshots;
using Observability.Sidecar.Supervision;
using Observability.Sidecar.Telemetry;
using Prometheus;

namespace Observability.Sidecar;

/// <summary>Builds the sidecar: the proxy port, the admin port, the supervisor and the export pipeline.</summary>
public static class SidecarApp
{
    /// <exception cref="OptionsValidationException">A setting is missing or wrong; the message names it.</exception>
    public static WebApplication Build(string[] args, string? configFile = null, Action<SidecarOptions>? configure = null)
    {
        // The host would watch its content root (the working folder, recursively) to reload appsettings.json,
        // which the sidecar does not read: a function writing files there cost a stat storm per write.
        var builder = WebApplication.CreateSlimBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
        // ASP.NET Core and YARP log every request at Information: on a proxy that is the hottest path there is
        // (measured: 0.45 of nginx's throughput with them, 0.57 without). The sidecar's own categories keep the configured level.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        // Any level left on the hosting logger makes ASP.NET Core start an Activity and a logging scope for every
        // request (3 % of the sidecar's CPU in a profile under load): the invocation span is the sidecar's own. The
        // logger's one other message, a startup failure, is rethrown to the host, which logs it under its own category.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        if (configFile is not null)
        {
            // Command line and environment still win over the file.
            var file = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = Path.GetFullPath(configFile), Optional = false };
            file.ResolveFileProvider();
            builder.Configuration.Sources.Insert(0, file);
        }

        var options = ReadOptions(builder.Configuration, configure);
        SocketTuning.Apply(builder.WebHost, options.InlineIo);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = IPAddress.Parse(options.ListenAddress);
            // Without TLS there is no protocol negotiation: a port speaks HTTP/1.1 or HTTP/2 (h2c), not both.
            kestrel.Listen(address, options.Port, l => l.Protocols = options.Http2 ? HttpProtocols.Http2 : HttpProtocols.Http1);
            kestrel.Listen(address, options.AdminPort);
            kestrel.Limits.MaxRequestBodySize = null;
        });

        var services = builder.Services;
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Prometheus.Metrics.NewCustomRegistry());
        services.AddSingleton(sp => new SidecarMetrics(sp.GetRequiredService<CollectorRegistry>()));
        services.AddSingleton(new LogTail(options.LogLines));
        services.AddSingleton<FunctionSupervisor>();
        services.AddSingleton<ColdStartRecorder>();
        services.AddSingleton<SnapshotService>();
        services.AddSingleton<InvocationProxy>();
        services.AddSingleton(sp => new SpanExport(options, sp.GetRequiredService<SidecarMetrics>()));
        services.AddHttpForwarder();
        services.AddHostedService<SupervisorLifetime>();
        services.Configure<HostOptions>(host => host.ServicesStartConcurrently = true);

        var app = builder.Build();
        var registry = app.Services.GetRequiredService<CollectorRegistry>();
        var supervisor = app.Services.GetRequiredService<FunctionSupervisor>();
        _ = app.Services.GetRequiredService<SpanExport>(); // starts building the span pipeline, beside the host's start

        // The admin port takes three fixed paths: plain middleware, without endpoint routing, whose first request
        // cost the sidecar's start tens of milliseconds of JIT.
        app.MapWhen(http => http.Connection.LocalPort == options.AdminPort, admin =>
        {
            admin.UseMetricServer("/metrics", registry);
            admin.Run(http => AdminAsync(http, supervisor));
        });
        var proxy = app.Services.GetRequiredService<InvocationProxy>();
        app.Run(proxy.InvokeAsync);
        return app;
    }

    private static Task AdminAsync(HttpContext http, FunctionSupervisor supervisor)
    {
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
        {
            http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return Task.CompletedTask;
        }

        return http.Request.Path.Value switch
        {
            "/healthz" => Status(http, StatusCodes.Status200OK, "ok"),
            "/readyz" when supervisor.Current?.IsListening == true => Status(http, StatusCodes.Status200OK, "ready"),
            "/readyz" when supervisor.ScaledToZero => Status(http, StatusCodes.Status200OK, "ready, scaled to zero"),
            "/readyz" => Status(http, StatusCodes.Status503ServiceUnavailable, "function not listening"),
            _ => Status(http, StatusCodes.Status404NotFound, "not found: the admin port serves /metrics, /healthz and /readyz"),
        };
    }

    private static Task Status(HttpContext http, int code, string status)
    {
        http.Response.StatusCode = code;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync($$"""{"status":"{{status}}"}""");
    }

    /// <summary>
    /// After a stop: removes the spool folders when nothing waits in them, so that clean stops do not leave a
    /// folder per sidecar instance behind. A folder with undelivered data stays, for whoever replays it.
    /// </summary>
    public static void RemoveEmptySpool(SidecarOptions options)
    {
        foreach (var folder in new[] { options.SnapshotSpoolDirectory, options.EffectiveSpoolDirectory })
        {
            try
            {
                if (folder is not null && Directory.Exists(folder) && !Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any())
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A mount point, or a file that came at the last moment: leave it.
            }
        }
    }

    public static SidecarOptions ReadOptions(IConfiguration configuration, Action<SidecarOptions>? configure = null)
    {
        var options = new SidecarOptions();
        try
        {
            configuration.GetSection(SidecarOptions.Section).Bind(options);
        }
        catch (InvalidOperationException e)
        {
            // A value of the wrong type, e.g. "Failed to convert configuration value 'x' at 'Sidecar:UpstreamTimeout' to type 'System.TimeSpan'."
            throw new OptionsValidationException(SidecarOptions.Section, typeof(SidecarOptions), [e.Message]);
        }

        configure?.Invoke(options);
        var result = new SidecarOptionsValidator().Validate(SidecarOptions.Section, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(SidecarOptions.Section, typeof(SidecarOptions), result.Failures);
        }

        return options;
    }

    /// <summary>Starts the function with the sidecar and stops it (and flushes spans) when the sidecar stops.</summary>
    private sealed class SupervisorLifetime(FunctionSupervisor supervisor, SnapshotService snapshots, SpanExport spans, IOptions<SidecarOptions> options, SidecarMetrics metrics, TimeProvider time, ILogger<SpanSpoolReplay> logger) : IHostedService
    {
        // None without a collector or a spool.
        private readonly SpanSpoolReplay? _replay = options.Value is { EffectiveOtlpEndpoint: { } otlp, EffectiveSpoolDirectory: { } spool }
            ? new SpanSpoolReplay(otlp, options.Value.EffectiveOtlpHeaders, spool, metrics, time, logger)
            : null;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await Task.Yield(); // the rest runs beside the server's start (ServicesStartConcurrently)
            await supervisor.StartAsync(cancellationToken);
            await spans.Ready; // a span pipeline that could not be built stops the sidecar at start, as a bad setting does
            _replay?.Start(); // what an earlier run left in the spool goes out now, not at the exporter's next pass
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await supervisor.DisposeAsync();
            await snapshots.DisposeAsync();
            if (_replay is not null)
            {
                await _replay.DisposeAsync();
            }

            spans.Flush();
        }
    }
}
