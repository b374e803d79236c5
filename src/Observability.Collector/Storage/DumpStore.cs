using System.Buffers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Observability.Collector.Query;

namespace Observability.Collector.Storage;

/// <summary>
/// Dumps uploaded by sidecars, in <c>dumps</c> and <c>dump_chunks</c> (migration 3): written in chunks of
/// <see cref="ChunkBytes"/> from the request as it arrives, read back one chunk at a time, dropped by retention.
/// </summary>
internal sealed class DumpStore(NpgsqlDataSource dataSource, [FromKeyedServices(QueryDatabase.Key)] NpgsqlDataSource queryDataSource)
{
    /// <summary>Bytes per stored row: large enough that a 256 MiB dump is 256 rows, small enough to hold one in memory.</summary>
    public const int ChunkBytes = 1024 * 1024;

    /// <summary>
    /// Stores <paramref name="body"/> as dump <paramref name="dumpId"/> in one transaction committed before this returns.
    /// A dump is written once: a stored one is never replaced (a write key must not be enough to swap the dump a
    /// snapshot points at). Nothing is kept when the body runs past <paramref name="maxBytes"/>.
    /// </summary>
    /// <returns>The bytes stored, or null when dump <paramref name="dumpId"/> is already stored (nothing read).</returns>
    /// <exception cref="DumpTooLargeException">The body is longer than <paramref name="maxBytes"/>.</exception>
    public async Task<long?> WriteAsync(string dumpId, Stream body, long maxBytes, DateTime received, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // The row first: a second upload of the same id waits on it here until this one commits (then finds it
        // stored) or rolls back (then writes it).
        await using (var insert = new NpgsqlCommand("INSERT INTO dumps (dump_id, received, bytes) VALUES ($1, $2, 0) ON CONFLICT (dump_id) DO NOTHING", conn, tx))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = dumpId, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter { Value = received, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            if (await insert.ExecuteNonQueryAsync(ct) == 0)
            {
                return null;
            }
        }

        long total = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            await using var copy = await conn.BeginBinaryImportAsync("COPY dump_chunks (dump_id, seq, data) FROM STDIN (FORMAT BINARY)", ct);
            for (var seq = 0; ; seq++)
            {
                var filled = await body.ReadAtLeastAsync(buffer.AsMemory(0, ChunkBytes), ChunkBytes, throwOnEndOfStream: false, ct);
                if (filled == 0)
                {
                    break;
                }

                total += filled;
                if (total > maxBytes)
                {
                    // Disposing the import without completing it cancels the COPY; the transaction rolls back.
                    throw new DumpTooLargeException(maxBytes);
                }

                await copy.StartRowAsync(ct);
                await copy.WriteAsync(dumpId, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(seq, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(new ArraySegment<byte>(buffer, 0, filled), NpgsqlDbType.Bytea, ct);
                if (filled < ChunkBytes)
                {
                    break;
                }
            }

            await copy.CompleteAsync(ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await using (var size = new NpgsqlCommand("UPDATE dumps SET bytes = $2 WHERE dump_id = $1", conn, tx))
        {
            size.Parameters.Add(new NpgsqlParameter { Value = dumpId, NpgsqlDbType = NpgsqlDbType.Text });
            size.Parameters.Add(new NpgsqlParameter { Value = total, NpgsqlDbType = NpgsqlDbType.Bigint });
            await size.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return total;
    }

    /// <summary>The size of dump <paramref name="dumpId"/>, or null when the collector does not hold it.</summary>
    public async Task<long?> SizeAsync(string dumpId, CancellationToken ct)
    {
        await using var cmd = queryDataSource.CreateCommand("SELECT bytes FROM dumps WHERE dump_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = dumpId, NpgsqlDbType = NpgsqlDbType.Text });
        return await cmd.ExecuteScalarAsync(ct) is long bytes ? bytes : null;
    }

    /// <summary>
    /// Copies dump <paramref name="dumpId"/> to <paramref name="destination"/>, one chunk per query (each well inside the
    /// query timeout however slowly the client reads). Returns the bytes copied.
    /// </summary>
    public async Task<long> CopyToAsync(string dumpId, Stream destination, CancellationToken ct)
    {
        long total = 0;
        for (var seq = 0; ; seq++)
        {
            await using var cmd = queryDataSource.CreateCommand("SELECT data FROM dump_chunks WHERE dump_id = $1 AND seq = $2");
            cmd.Parameters.Add(new NpgsqlParameter { Value = dumpId, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = seq, NpgsqlDbType = NpgsqlDbType.Integer });
            if (await cmd.ExecuteScalarAsync(ct) is not byte[] chunk)
            {
                return total;
            }

            await destination.WriteAsync(chunk, ct);
            total += chunk.Length;
        }
    }

    /// <summary>Deletes the dumps received before <paramref name="before"/> (their chunks go with them). Returns how many.</summary>
    public async Task<int> DeleteReceivedBeforeAsync(DateTime before, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("DELETE FROM dumps WHERE received < $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = before, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await cmd.ExecuteNonQueryAsync(ct);
    }
}

internal sealed class DumpTooLargeException(long limit) : Exception($"the dump is larger than {limit} bytes (the collector's MaxDumpBytes)")
{
    public long Limit => limit;
}
