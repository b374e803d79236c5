using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Observability.WarmUp.Storage;

namespace Observability.WarmUp.Scheduling;

/// <summary>
/// The Hangfire job of one planned ping. Hangfire runs a job at least once (a retry, a worker that died and whose
/// job another worker picked up), so the job first looks at its row: a ping already answered is not sent again.
/// A failed ping is recorded and thrown, so that Hangfire retries it with a short backoff, visible in the dashboard.
/// An answered ping has the planner run again, which plans the next one.
/// </summary>
internal sealed partial class PingJob(
    PingLedger ledger,
    PingSender sender,
    WarmUpMetrics metrics,
    IBackgroundJobClient jobs,
    IOptions<WarmUpOptions> options,
    TimeProvider time,
    ILogger<PingJob> logger)
{
    /// <summary>Retries of a failed ping, and their delays: short, because a late ping is a useless ping.</summary>
    public const int Retries = 3;

    [AutomaticRetry(Attempts = Retries, DelaysInSeconds = [2, 5, 10])]
    public async Task RunAsync(long pingId, CancellationToken ct)
    {
        var ping = await ledger.GetAsync(pingId, ct);
        if (ping is null || ping.Done)
        {
            LogAlreadyDone(logger, pingId, ping?.Outcome);
            return;
        }

        var sentAt = time.GetUtcNow();
        var result = await sender.SendAsync(ping, ct);
        await ledger.RecordAsync(pingId, sentAt, result.Outcome, result.StatusCode, result.Latency.TotalMilliseconds, ct);
        metrics.Pings.WithLabels(ping.Function, result.Outcome).Inc();
        metrics.PingDuration.WithLabels(ping.Function).Observe(result.Latency.TotalSeconds);
        if (result.Outcome == PingOutcomes.Failed)
        {
            LogFailed(logger, ping.Function, pingId, result.Problem);
            throw new WarmUpPingFailedException($"Warm-up ping {pingId} of {ping.Function} failed: {result.Problem}");
        }

        LogSent(logger, ping.Function, pingId, result.Outcome, result.Latency.TotalMilliseconds);
        if (options.Value.RecurringPlanner)
        {
            // The next ping is planned from this one at once: a keep-alive shorter than the planner's minute still
            // gets its pings on time.
            jobs.Enqueue<WarmUpPlanner>(planner => planner.RunAsync(CancellationToken.None));
        }
    }

    [LoggerMessage(EventId = (int)WarmUpLogEvents.PingAlreadyDone, Level = LogLevel.Information, Message = "Ping {PingId} not sent again: it is {Outcome}")]
    private static partial void LogAlreadyDone(ILogger logger, long pingId, string? outcome);

    [LoggerMessage(EventId = (int)WarmUpLogEvents.PingSent, Level = LogLevel.Debug, Message = "Ping of {Function} ({PingId}) found it {Outcome} in {LatencyMs} ms")]
    private static partial void LogSent(ILogger logger, string function, long pingId, string outcome, double latencyMs);

    [LoggerMessage(EventId = (int)WarmUpLogEvents.PingFailed, Level = LogLevel.Warning, Message = "Ping of {Function} ({PingId}) failed, Hangfire retries it: {Problem}")]
    private static partial void LogFailed(ILogger logger, string function, long pingId, string? problem);
}

/// <summary>A ping's requests failed: thrown so that Hangfire retries the job.</summary>
public sealed class WarmUpPingFailedException(string message) : Exception(message);
