using System.Diagnostics;
using Npgsql;
using Observability.Collector.Storage;
using Observability.Core.Model;
using Observability.Core.Otlp;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Bench;

/// <summary>
/// The floor the collector is measured against: the same spans, decoded and mapped to rows before the
/// clock starts, written with the collector's own <see cref="RowCopy"/> in batches of the collector's size
/// (whole requests until BatchMaxRows), one transaction each. Only the COPYs and commits are timed.
/// One connection by default; --raw-connections N writes batches on N connections at once.
/// </summary>
internal static class RawCopyBaseline
{
    public static async Task<RawCopyResult> RunAsync(string connectionString, IReadOnlyList<Payload> payloads, int batchRows, int connections)
    {
        var batches = MapToBatches(payloads, batchRows);
        var conns = await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            var conn = new NpgsqlConnection(connectionString);
            await conn.OpenAsync();
            return conn;
        }));
        try
        {
            GC.Collect();
            var next = -1;
            var cpu = CpuUse.Now();
            var started = Stopwatch.GetTimestamp();
            await Task.WhenAll(conns.Select(conn => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < batches.Count)
                {
                    await using var tx = await conn.BeginTransactionAsync();
                    await RowCopy.CopySpansAsync(conn, "spans", batches[i], CancellationToken.None);
                    await tx.CommitAsync();
                }
            })));
            var elapsed = Stopwatch.GetElapsedTime(started);
            var spans = batches.Sum(b => b.Count);
            return new RawCopyResult(spans / elapsed.TotalSeconds, CpuPerSpan.Of(CpuUse.Now() - cpu, spans));
        }
        finally
        {
            foreach (var conn in conns)
            {
                await conn.DisposeAsync();
            }
        }
    }

    /// <summary>Whole requests per batch until it holds at least <paramref name="batchRows"/>, as the collector's writer fills its batches.</summary>
    private static List<List<SpanRow>> MapToBatches(IReadOnlyList<Payload> payloads, int batchRows)
    {
        var rules = new IngestRules();
        var now = DateTime.UtcNow;
        var batches = new List<List<SpanRow>> { new() };
        foreach (var payload in payloads)
        {
            if (batches[^1].Count >= batchRows)
            {
                batches.Add([]);
            }

            batches[^1].AddRange(OtlpTraceMapper.Map(ExportTraceServiceRequest.Parser.ParseFrom(payload.Body), now, rules).Rows);
        }

        return batches;
    }
}
