using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Observability.Collector.Configuration;
using Observability.Collector.Metrics;
using Observability.Collector.Storage;
using Observability.Core.Model;

namespace Observability.Collector.Ingest;

/// <summary>
/// Drains the ingest queue into PostgreSQL: batches by size and age, one binary COPY per table in one
/// transaction, and only after the commit does it release the requests that wait for it.
/// A retried request is stored once: the fast path COPYs straight into the tables, and a batch that hits
/// a duplicate key is written again through a staging table with ON CONFLICT DO NOTHING.
/// </summary>
internal sealed partial class BatchWriter(
    IngestQueue queue,
    NpgsqlDataSource dataSource,
    Partitions partitions,
    CollectorMetrics metrics,
    FunctionMetrics functionMetrics,
    IOptions<CollectorOptions> options,
    TimeProvider time,
    ILogger<BatchWriter> logger) : BackgroundService
{
    private readonly CollectorOptions _options = options.Value;

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        // Writers finish what is queued, then stop: requests already accepted into the queue get their answer.
        queue.Close();
        return base.StopAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, _options.Writers).Select(_ => Task.Run(RunWriterAsync, CancellationToken.None)));

    private async Task RunWriterAsync()
    {
        NpgsqlConnection? conn = null;
        var batch = new List<IngestWork>();
        try
        {
            while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
            {
                batch.Clear();
                var rows = await FillAsync(batch);
                if (rows == 0 && batch.Count == 0)
                {
                    continue;
                }

                queue.Dequeued(rows);
                conn = await WriteAsync(conn, batch);
            }
        }
        finally
        {
            if (conn is not null)
            {
                await conn.DisposeAsync();
            }
        }
    }

    private async Task<int> FillAsync(List<IngestWork> batch)
    {
        var rows = 0;
        var deadline = time.GetTimestamp() + (long)(_options.BatchLinger.TotalSeconds * time.TimestampFrequency);
        while (rows < _options.BatchMaxRows)
        {
            if (queue.Reader.TryRead(out var work))
            {
                batch.Add(work);
                rows += work.Count;
                continue;
            }

            var remaining = time.GetElapsedTime(time.GetTimestamp(), deadline);
            if (batch.Count == 0 || remaining <= TimeSpan.Zero)
            {
                break;
            }

            var more = queue.Reader.WaitToReadAsync(CancellationToken.None).AsTask();
            if (await Task.WhenAny(more, Task.Delay(remaining, time)) != more || !await more)
            {
                break;
            }
        }

        return rows;
    }

    /// <returns>The connection to use next time, or null when it broke.</returns>
    private async Task<NpgsqlConnection?> WriteAsync(NpgsqlConnection? conn, List<IngestWork> batch)
    {
        var started = time.GetTimestamp();
        var rows = batch.Sum(w => w.Count);
        try
        {
            conn ??= await dataSource.OpenConnectionAsync();
            var committed = await CommitAsync(conn, batch);
            metrics.CommitDuration.WithLabels("committed").Observe(time.GetElapsedTime(started).TotalSeconds);
            metrics.BatchRows.Observe(rows);
            foreach (var work in batch)
            {
                work.Complete(WriteOutcome.Committed);
            }

            functionMetrics.Record(committed);
            return conn;
        }
        catch (PostgresException e) when (IsDataError(e))
        {
            if (batch.Count > 1)
            {
                // One request's data poisons the batch: write each request alone so only that one fails.
                foreach (var work in batch)
                {
                    conn = await WriteAsync(conn, [work]);
                }

                return conn;
            }

            LogInvalidData(e.SqlState, e.MessageText);
            CountRefused(batch, metrics.Rejected, "database_refused");
            batch[0].Complete(WriteOutcome.Invalid);
            return conn;
        }
        catch (Exception e) when (e is NpgsqlException or IOException or SocketException or TimeoutException or InvalidOperationException)
        {
            LogUnavailable(rows, e.Message);
            metrics.CommitDuration.WithLabels("failed").Observe(time.GetElapsedTime(started).TotalSeconds);
            CountRefused(batch, metrics.Dropped, "storage_unavailable");
            foreach (var work in batch)
            {
                work.Complete(WriteOutcome.Unavailable);
            }

            if (conn is not null)
            {
                await conn.DisposeAsync();
            }

            return null;
        }
    }

    private async Task<IReadOnlyCollection<SpanRow>> CommitAsync(NpgsqlConnection conn, IReadOnlyList<IngestWork> batch)
    {
        var spans = batch.SelectMany(w => w.Spans).ToList();
        var logs = batch.SelectMany(w => w.Logs).ToList();
        // In key order, so that two replicas writing the same rows at once (a retry the load balancer sent to the
        // other one) wait for each other in one order instead of deadlocking (tests/…/ReplicaTests.cs).
        spans.Sort(static (x, y) => x.TraceId.AsSpan().SequenceCompareTo(y.TraceId) is var c and not 0 ? c : x.SpanId.AsSpan().SequenceCompareTo(y.SpanId));
        logs.Sort(static (x, y) => x.LogId.AsSpan().SequenceCompareTo(y.LogId));
        await partitions.EnsureAsync(
            spans.Select(s => DateOnly.FromDateTime(s.StartTime)).Concat(logs.Select(l => DateOnly.FromDateTime(l.Time))).Distinct(),
            CancellationToken.None);
        try
        {
            return await CommitOnceAsync(conn, spans, logs, dedupe: false);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DeadlockDetected)
        {
            // Already stored, or being stored by another writer that PostgreSQL let go first: write again, skipping it.
            return await CommitOnceAsync(conn, spans, logs, dedupe: true);
        }
    }

    private async Task<IReadOnlyCollection<SpanRow>> CommitOnceAsync(NpgsqlConnection conn, List<SpanRow> spans, List<LogRow> logs, bool dedupe)
    {
        await using var tx = await conn.BeginTransactionAsync();
        IReadOnlyCollection<SpanRow> insertedSpans = spans;
        var insertedLogs = logs.Count;
        if (!dedupe)
        {
            await RowCopy.CopySpansAsync(conn, "spans", spans, CancellationToken.None);
            await RowCopy.CopyLogsAsync(conn, "logs", logs, CancellationToken.None);
        }
        else
        {
            insertedSpans = await StagedInsert.SpansAsync(conn, tx, spans);
            insertedLogs = await StagedInsert.LogsAsync(conn, tx, logs);
        }

        await Inventory.UpsertAsync(conn, tx, insertedSpans, CancellationToken.None);
        await tx.CommitAsync();

        metrics.Accepted.WithLabels(Signals.Spans).Inc(insertedSpans.Count);
        metrics.Accepted.WithLabels(Signals.Logs).Inc(insertedLogs);
        metrics.Duplicates.WithLabels(Signals.Spans).Inc(spans.Count - insertedSpans.Count);
        metrics.Duplicates.WithLabels(Signals.Logs).Inc(logs.Count - insertedLogs);
        return insertedSpans;
    }

    private static void CountRefused(IReadOnlyList<IngestWork> batch, Prometheus.Counter counter, string reason)
    {
        counter.WithLabels(Signals.Spans, reason).Inc(batch.Sum(w => w.Spans.Count));
        counter.WithLabels(Signals.Logs, reason).Inc(batch.Sum(w => w.Logs.Count));
    }

    // Class 22 (data exception) and 23 (integrity) other than duplicates: the data, not the database, is at fault.
    private static bool IsDataError(PostgresException e) =>
        e.SqlState.StartsWith("22", StringComparison.Ordinal) || (e.SqlState.StartsWith("23", StringComparison.Ordinal) && e.SqlState != PostgresErrorCodes.UniqueViolation);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Database unavailable; {Rows} rows refused with a retryable answer: {Error}")]
    private partial void LogUnavailable(int rows, string error);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Database refused a request's data ({SqlState}): {Error}")]
    private partial void LogInvalidData(string sqlState, string error);
}
