using Npgsql;

namespace Observability.WarmUp.Storage;

/// <summary>
/// One planner run at a time across every scheduler on the database: a PostgreSQL session advisory lock, held on a
/// connection of its own for the run and released when it ends (or when the connection drops, if the scheduler dies).
/// </summary>
internal sealed class PlannerLock : IAsyncDisposable
{
    /// <summary>Advisory lock key of planner runs (beside <see cref="WarmUpSchema.LockKey"/>).</summary>
    public const long Key = WarmUpSchema.LockKey + 1;

    private readonly NpgsqlConnection _connection;

    private PlannerLock(NpgsqlConnection connection) => _connection = connection;

    /// <summary>The lock, waiting up to <paramref name="timeout"/> for another run to end; null when it did not.</summary>
    public static async Task<PlannerLock?> TryAcquireAsync(NpgsqlDataSource dataSource, TimeSpan timeout, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await using (var setTimeout = new NpgsqlCommand($"SET lock_timeout = {(long)timeout.TotalMilliseconds}", connection))
            {
                await setTimeout.ExecuteNonQueryAsync(ct);
            }

            await using (var acquire = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
            {
                acquire.Parameters.AddWithValue("key", Key);
                await acquire.ExecuteNonQueryAsync(ct);
            }

            return new PlannerLock(connection);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            await connection.DisposeAsync();
            return null;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", _connection);
            release.Parameters.AddWithValue("key", Key);
            await release.ExecuteNonQueryAsync();
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }
}
