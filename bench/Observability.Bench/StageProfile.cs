using System.Diagnostics;
using Npgsql;
using Observability.Collector.Metrics;
using Observability.Collector.Storage;
using Observability.Core.Model;
using Observability.Core.Otlp;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Bench;

/// <summary>One step of the collector's ingest path: wall time, and the part of it this process spent on CPU.</summary>
internal sealed record StageCost(string Stage, double MicrosecondsPerSpan, double ProcessCpuMicrosecondsPerSpan, double Share);

/// <summary>
/// Where a writer's time goes (--profile): the steps the collector takes for each batch, done one after
/// another on one connection with each step timed apart, in wall time and in this process's CPU time (the
/// rest of a COPY is PostgreSQL's). HTTP, queueing and contention between writers are not in it.
/// </summary>
internal static class StageProfile
{
    public static async Task<IReadOnlyList<StageCost>> RunAsync(string connectionString, IReadOnlyList<Payload> payloads, int batchRows)
    {
        string[] names = ["protobuf decode", "map to rows", "COPY", "inventory upsert", "commit", "function metrics"];
        var ticks = new long[names.Length];
        var cpu = new TimeSpan[names.Length];
        long spans = 0;
        var functionMetrics = new FunctionMetrics(Prometheus.Metrics.NewCustomRegistry());
        var rules = new IngestRules();
        var now = DateTime.UtcNow;
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        var batch = new List<SpanRow>();
        var lap = Stopwatch.GetTimestamp();
        var cpuLap = Environment.CpuUsage.TotalTime;
        for (var i = 0; i < payloads.Count; i++)
        {
            var request = ExportTraceServiceRequest.Parser.ParseFrom(payloads[i].Body);
            Lap(0);
            batch.AddRange(OtlpTraceMapper.Map(request, now, rules).Rows);
            Lap(1);
            if (batch.Count < batchRows && i < payloads.Count - 1)
            {
                continue;
            }

            await using var tx = await conn.BeginTransactionAsync();
            await RowCopy.CopySpansAsync(conn, "spans", batch, CancellationToken.None);
            Lap(2);
            await Inventory.UpsertAsync(conn, tx, batch, CancellationToken.None);
            Lap(3);
            await tx.CommitAsync();
            Lap(4);
            functionMetrics.Record(batch);
            Lap(5);
            spans += batch.Count;
            batch.Clear();
        }

        var total = ticks.Sum();
        return names.Select((name, s) => new StageCost(
            name,
            Stopwatch.GetElapsedTime(0, ticks[s]).TotalMicroseconds / spans,
            cpu[s].TotalMicroseconds / spans,
            (double)ticks[s] / total)).ToList();

        // Charges the time since the previous lap to one stage.
        void Lap(int stage)
        {
            var time = Stopwatch.GetTimestamp();
            var cpuTime = Environment.CpuUsage.TotalTime;
            ticks[stage] += time - lap;
            cpu[stage] += cpuTime - cpuLap;
            lap = time;
            cpuLap = cpuTime;
        }
    }
}
