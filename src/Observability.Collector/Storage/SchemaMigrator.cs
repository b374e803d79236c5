using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Observability.Collector.Configuration;

namespace Observability.Collector.Storage;

/// <summary>
/// Brings the database to the latest schema at start. An advisory lock makes replicas that start
/// together take turns: the first applies the steps, the others find them applied.
/// </summary>
internal sealed partial class SchemaMigrator(NpgsqlDataSource dataSource, IOptions<CollectorOptions> options, ILogger<SchemaMigrator> logger)
{
    // Arbitrary, fixed: the lock id every collector replica agrees on.
    private const long MigrationLockId = 0x0b5_c011ec7;

    public async Task MigrateAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockId})", conn))
        {
            await lockCmd.ExecuteNonQueryAsync(ct);
        }

        try
        {
            await using (var create = new NpgsqlCommand(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", conn))
            {
                await create.ExecuteNonQueryAsync(ct);
            }

            var applied = new HashSet<int>();
            await using (var read = new NpgsqlCommand("SELECT version FROM schema_migrations", conn))
            await using (var reader = await read.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    applied.Add(reader.GetInt32(0));
                }
            }

            foreach (var (version, name, sql) in Migrations.All)
            {
                if (applied.Contains(version))
                {
                    continue;
                }

                await using var tx = await conn.BeginTransactionAsync(ct);
                // A step that builds an index on a large store takes as long as it takes.
                await using (var step = new NpgsqlCommand(sql, conn, tx) { CommandTimeout = 0 })
                {
                    await step.ExecuteNonQueryAsync(ct);
                }

                await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", conn, tx))
                {
                    record.Parameters.Add(new() { Value = version });
                    record.Parameters.Add(new() { Value = name });
                    await record.ExecuteNonQueryAsync(ct);
                }

                await tx.CommitAsync(ct);
                LogApplied(version, name);
            }

            // Not a numbered step: an operator's choice that may change from one start to the next.
            await using var indexes = new NpgsqlCommand(options.Value.AttributeIndex ? AttributeIndexes.Create : AttributeIndexes.Drop, conn);
            indexes.CommandTimeout = 0; // building them on a large store takes as long as it takes
            await indexes.ExecuteNonQueryAsync(ct);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({MigrationLockId})", conn);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applied schema migration {Version}: {Name}")]
    private partial void LogApplied(int version, string name);

    /// <summary>The attribute filter indexes (<see cref="CollectorOptions.AttributeIndex"/>).</summary>
    private static class AttributeIndexes
    {
        // Created on the partitioned table, so on every day partition, existing and future. jsonb_path_ops serves
        // containment (`attributes @> '{"key":"value"}'`) with one hash per path and value.
        public const string Create = """
            CREATE INDEX IF NOT EXISTS spans_attributes ON spans USING gin (attributes jsonb_path_ops);
            CREATE INDEX IF NOT EXISTS spans_resource ON spans USING gin (resource jsonb_path_ops);
            """;

        public const string Drop = "DROP INDEX IF EXISTS spans_attributes; DROP INDEX IF EXISTS spans_resource;";
    }
}
