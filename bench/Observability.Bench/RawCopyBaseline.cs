using System.Diagnostics;
using Npgsql;
using Observability.Collector.Storage;
using Observability.Core.Model;
using Observability.Core.Otlp;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Bench;

/// <summary>
/// The floor the collector is measured against: the same spans, already mapped to rows, written with
/// the collector's own <see cref="RowCopy"/> in batches of the collector's size, one transaction each,
/// on one connection. Only the COPY and the commit are timed; decoding and mapping happen between batches.
/// </summary>
internal static class RawCopyBaseline
{
    /// <returns>Spans per second of COPY+commit time, and the CPU used in that time.</returns>
    public static async Task<RawCopyResult> RunAsync(string connectionString, IReadOnlyList<Payload> payloads, int batchRows)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        var rules = new IngestRules();
        var now = DateTime.UtcNow;
        var batch = new List<SpanRow>(batchRows + payloads[0].Spans);
        var timed = TimeSpan.Zero;
        var cpu = default(CpuUse);
        long written = 0;
        for (var i = 0; i < payloads.Count; i++)
        {
            // Whole requests until the batch is full, as the collector's writer fills its batches.
            var request = ExportTraceServiceRequest.Parser.ParseFrom(payloads[i].Body);
            batch.AddRange(OtlpTraceMapper.Map(request, now, rules).Rows);
            if (batch.Count < batchRows && i < payloads.Count - 1)
            {
                continue;
            }

            var cpuBefore = CpuUse.Now();
            timed += await CopyAsync(conn, batch);
            cpu += CpuUse.Now() - cpuBefore;
            written += batch.Count;
            batch.Clear();
        }

        return new RawCopyResult(written / timed.TotalSeconds, CpuPerSpan.Of(cpu, written));
    }

    private static async Task<TimeSpan> CopyAsync(NpgsqlConnection conn, List<SpanRow> rows)
    {
        var started = Stopwatch.GetTimestamp();
        await using var tx = await conn.BeginTransactionAsync();
        await RowCopy.CopySpansAsync(conn, "spans", rows, CancellationToken.None);
        await tx.CommitAsync();
        return Stopwatch.GetElapsedTime(started);
    }
}
