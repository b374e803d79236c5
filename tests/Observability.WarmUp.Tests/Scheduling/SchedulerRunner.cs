using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Observability.Testing;
using Observability.WarmUp.Scheduling;

namespace Observability.WarmUp.Tests.Scheduling;

/// <summary>A real warm-up scheduler (Hangfire server, planner, port) in this process, against a test database.</summary>
internal sealed class SchedulerRunner : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SchedulerRunner(WebApplication app)
    {
        _app = app;
        Port = WarmUpScheduler.Port(app);
    }

    public int Port { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>One planner run, as the recurring job makes it: the ids of the pings planned.</summary>
    public Task<IReadOnlyList<long>> PlanAsync() => Services.GetRequiredService<WarmUpPlanner>().PlanAsync(CancellationToken.None);

    /// <summary>The metrics as /metrics serves them (read key).</summary>
    public async Task<string> MetricsAsync()
    {
        using var client = CollectorRunner.Client(Port, CollectorRunner.ReadKey);
        return await client.GetStringAsync("/metrics");
    }

    /// <param name="connectionString">The test database.</param>
    /// <param name="configure">Settings on top of the test keys, a free port, no recurring planner (tests plan by hand) and fast polling.</param>
    /// <param name="time">The scheduler's clock; default the system's.</param>
    public static async Task<SchedulerRunner> StartAsync(string connectionString, Action<WarmUpOptions>? configure = null, TimeProvider? time = null)
    {
        var app = WarmUpScheduler.Build(["--Logging:LogLevel:Default=Warning"], o => Defaults(o, connectionString, configure), time);
        await app.StartAsync();
        return new SchedulerRunner(app);
    }

    /// <summary>The test settings, also given to obs-warmup processes.</summary>
    public static void Defaults(WarmUpOptions o, string connectionString, Action<WarmUpOptions>? configure)
    {
        o.DatabaseUrl = connectionString;
        o.ReadKey = CollectorRunner.ReadKey;
        o.MetricsKey = CollectorRunner.MetricsKey;
        o.WarmUpToken = PingTarget.Token;
        o.Port = 0;
        o.RecurringPlanner = false;
        o.SchedulePollingInterval = TimeSpan.FromMilliseconds(500);
        o.QueuePollInterval = TimeSpan.FromMilliseconds(500);
        o.PingTimeout = TimeSpan.FromSeconds(30);
        configure?.Invoke(o);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
