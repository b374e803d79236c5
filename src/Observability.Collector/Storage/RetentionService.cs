using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Observability.Collector.Configuration;

namespace Observability.Collector.Storage;

/// <summary>
/// Hourly: drops day partitions older than the retention with the inventory rows last seen before them and the
/// dumps received before them, and creates tomorrow's partitions ahead of need.
/// </summary>
internal sealed partial class RetentionService(
    Partitions partitions,
    NpgsqlDataSource dataSource,
    DumpStore dumps,
    IOptions<CollectorOptions> options,
    TimeProvider time,
    ILogger<RetentionService> logger) : BackgroundService
{
    private readonly TaskCompletionSource _firstPass = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the pass run at start has finished, whether it succeeded or not.</summary>
    internal Task FirstPass => _firstPass.Task;

    public async Task RunOnceAsync(CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var oldestKept = today.AddDays(-options.Value.RetentionDays);
        await partitions.DropBeforeAsync(oldestKept, ct);
        var removed = await Inventory.RemoveNotSeenSinceAsync(dataSource, oldestKept.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), ct);
        if (removed != default)
        {
            LogInventoryRemoved(removed.Functions, removed.Instances, removed.Operations);
        }

        if (await dumps.DeleteReceivedBeforeAsync(oldestKept.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), ct) is > 0 and var dropped)
        {
            LogDumpsRemoved(dropped);
        }

        await partitions.EnsureAsync([today, today.AddDays(1)], ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(e.Message);
            }
            finally
            {
                _firstPass.TrySetResult();
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Removed from the inventory, not seen within the retention: {Functions} functions, {Instances} instances, {Operations} operations")]
    private partial void LogInventoryRemoved(int functions, int instances, int operations);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Deleted {Dumps} dumps received before the retention")]
    private partial void LogDumpsRemoved(int dumps);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Retention pass failed; it runs again within the hour: {Error}")]
    private partial void LogFailed(string error);
}
