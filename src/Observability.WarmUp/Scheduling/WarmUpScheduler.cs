using System.ComponentModel.DataAnnotations;
using System.Net;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Observability.Collector.Configuration;
using Observability.WarmUp.Storage;
using Observability.WarmUp.Targets;
using Prometheus;

namespace Observability.WarmUp.Scheduling;

/// <summary>
/// The scheduler's composition, shared by its own host (obs-warmup), by `obs up` and by the tests: the Hangfire
/// server on PostgreSQL storage (schema hangfire), the scheduler's tables (schema warmup), the planner as a
/// minutely recurring job, and the port's endpoints.
/// </summary>
public static class WarmUpScheduler
{
    /// <summary>Hangfire's schema in the suite's database.</summary>
    public const string HangfireSchema = "hangfire";

    /// <summary>Builds the scheduler as a web application on its port (<see cref="WarmUpOptions.Port"/>).</summary>
    /// <param name="args">Command-line settings (--WarmUp:Port=8090, --Logging:...).</param>
    /// <param name="configure">Settings on top of the configuration (`obs up` gives the database and keys).</param>
    /// <param name="time">The planner's and the ping job's clock; default the system's.</param>
    /// <exception cref="OptionsValidationException">A setting is missing or wrong; the message names it.</exception>
    public static WebApplication Build(string[] args, Action<WarmUpOptions>? configure = null, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var options = ReadOptions(builder.Configuration, configure);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(options.ListenAddress), options.Port));
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddWarmUpScheduler(options);
        var app = builder.Build();
        app.MapWarmUpEndpoints();
        return app;
    }

    /// <summary>The settings from configuration (section WarmUp, and the suite's OBS_* variables), then <paramref name="configure"/>, validated.</summary>
    public static WarmUpOptions ReadOptions(IConfiguration configuration, Action<WarmUpOptions>? configure = null)
    {
        var options = new WarmUpOptions();
        configuration.GetSection(WarmUpOptions.Section).Bind(options);
        options.DatabaseUrl = configuration["OBS_DATABASE_URL"] ?? options.DatabaseUrl;
        options.ReadKey = configuration["OBS_READ_KEY"] ?? options.ReadKey;
        options.MetricsKey = configuration["OBS_METRICS_KEY"] ?? options.MetricsKey;
        options.WarmUpToken = configuration["OBS_WARMUP_TOKEN"] ?? options.WarmUpToken;
        configure?.Invoke(options);

        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
        {
            throw new OptionsValidationException(WarmUpOptions.Section, typeof(WarmUpOptions), errors.Select(e => e.ErrorMessage ?? "invalid"));
        }

        if (DatabaseUrls.TryToConnectionString(options.DatabaseUrl!, out _) is { } problem)
        {
            throw new OptionsValidationException(WarmUpOptions.Section, typeof(WarmUpOptions), [$"WarmUp:DatabaseUrl is not a PostgreSQL URL or connection string: {problem}."]);
        }

        return options;
    }

    /// <summary>The scheduler's services: storage, Hangfire server and clients, planner, ping job, metrics.</summary>
    public static IServiceCollection AddWarmUpScheduler(this IServiceCollection services, WarmUpOptions options)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(DatabaseUrls.ToConnectionString(options.DatabaseUrl!)) { ApplicationName = "obs-warmup" }.ConnectionString;
        services.AddSingleton(Options.Create(options));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new WarmUpMetrics(Prometheus.Metrics.NewCustomRegistry()));
        services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        services.AddSingleton<JobStorage>(_ => CreateStorage(connectionString, options));
        services.AddSingleton<PingLedger>();
        services.AddSingleton<ActivityReader>();
        services.AddSingleton<TargetCatalog>();
        services.AddSingleton<WarmUpPlanner>();
        services.AddSingleton(sp => new PingSender(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = Timeout.InfiniteTimeSpan },
            sp.GetRequiredService<IOptions<WarmUpOptions>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddTransient<PingJob>();

        // Serializer settings are Hangfire's global configuration; the storage is this container's own (above), so
        // that two schedulers in one process (the tests) keep apart.
        services.AddSingleton(sp => new HangfireLogAttachment(HangfireLogs.Instance.Attach(sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>())));
        services.AddHangfire((sp, config) =>
        {
            _ = sp.GetRequiredService<HangfireLogAttachment>();
            config
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UseLogProvider(HangfireLogs.Instance);
        });
        if (options.WorkerCount > 0)
        {
            services.AddHangfireServer((_, server) =>
            {
                server.WorkerCount = options.WorkerCount;
                server.SchedulePollingInterval = options.SchedulePollingInterval;
                server.ServerName = $"obs-warmup:{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";
            });
            if (options.RecurringPlanner)
            {
                services.AddHostedService<PlannerRegistration>();
            }
        }

        services.AddAntiforgery(); // the dashboard's buttons post forms: Hangfire checks antiforgery tokens when the service is there
        return services;
    }

    /// <summary>/hangfire (read key), /metrics (metrics or read key), /healthz.</summary>
    public static WebApplication MapWarmUpEndpoints(this WebApplication app)
    {
        app.UseMiddleware<WarmUpKeyMiddleware>();
        app.UseHangfireDashboard("/hangfire", new DashboardOptions { Authorization = [], DashboardTitle = "obs warm-up", AppPath = null }, app.Services.GetRequiredService<JobStorage>());
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapMetrics("/metrics", app.Services.GetRequiredService<WarmUpMetrics>().Registry);
        return app;
    }

    /// <summary>The port the scheduler listens on, once started (port 0 in the settings picks a free one).</summary>
    public static int Port(WebApplication app) =>
        new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

    private static PostgreSqlStorage CreateStorage(string connectionString, WarmUpOptions options)
    {
        var storageOptions = new PostgreSqlStorageOptions
        {
            SchemaName = HangfireSchema,
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = options.QueuePollInterval,
            InvisibilityTimeout = options.InvisibilityTimeout,
            UseSlidingInvisibilityTimeout = true,
        };
        PostgreSqlStorage? storage = null;
        using (var connection = new NpgsqlConnection(connectionString))
        {
            connection.Open();
            // Hangfire installs its schema when the storage is made: under the scheduler's lock, so that schedulers
            // starting together on a fresh database do not race each other's CREATE statements.
            WarmUpSchema.Create(connection, () => storage = new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connectionString, storageOptions), storageOptions));
        }

        return storage!;
    }

    /// <summary>This container's logger factory receives Hangfire's logs while the container lives.</summary>
    private sealed class HangfireLogAttachment(IDisposable attachment) : IDisposable
    {
        public void Dispose() => attachment.Dispose();
    }

    /// <summary>Registers (or updates) the minutely planner job once the server starts, and runs it once at once.</summary>
    private sealed class PlannerRegistration(IRecurringJobManager recurring) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            recurring.AddOrUpdate<WarmUpPlanner>(WarmUpPlanner.RecurringJobId, planner => planner.RunAsync(CancellationToken.None), Cron.Minutely());
            recurring.Trigger(WarmUpPlanner.RecurringJobId); // plan now, not at the next full minute
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
