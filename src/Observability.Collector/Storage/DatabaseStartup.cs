using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Observability.Collector.Storage;

/// <summary>
/// Runs before the ports open: waits for PostgreSQL (it may be starting beside us, as in Docker Compose),
/// migrates the schema and creates the partitions of yesterday, today and tomorrow.
/// </summary>
internal sealed partial class DatabaseStartup(
    NpgsqlDataSource dataSource,
    SchemaMigrator migrator,
    Partitions partitions,
    TimeProvider time,
    ILogger<DatabaseStartup> logger) : IHostedService
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await migrator.MigrateAsync(cancellationToken);
                break;
            }
            catch (NpgsqlException e) when (e is not PostgresException && time.GetElapsedTime(started) < WaitLimit)
            {
                LogWaiting(attempt, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * attempt * attempt)), time, cancellationToken);
            }
            catch (NpgsqlException e)
            {
                var builder = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
                throw new InvalidOperationException(
                    $"Cannot use PostgreSQL at {builder.Host}:{builder.Port}, database \"{builder.Database}\" (OBS_DATABASE_URL): {e.Message}", e);
            }
        }

        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        await partitions.EnsureAsync([today.AddDays(-1), today, today.AddDays(1)], cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "PostgreSQL not reachable yet (attempt {Attempt}): {Error}")]
    private partial void LogWaiting(int attempt, string error);
}
