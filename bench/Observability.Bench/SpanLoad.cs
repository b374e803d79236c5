using System.Diagnostics;

namespace Observability.Bench;

/// <summary>Fills a collector's store through its real ingest path (POST /v1/traces) before queries are timed.</summary>
internal static class SpanLoad
{
    private const int Chunk = 100_000;

    /// <summary>Sends <paramref name="spans"/> generated spans in chunks, from 8 clients; every one must be acknowledged.</summary>
    /// <exception cref="InvalidOperationException">The collector rejected some spans: the store would not be what was asked for.</exception>
    public static async Task StoreAsync(HttpClient ingest, int spans, TextWriter log, Workload? workload = null, ICollection<FailedInvocation>? failed = null)
    {
        var load = Stopwatch.StartNew();
        for (var stored = 0; stored < spans; stored += Chunk)
        {
            // A seed per chunk: the same seed would repeat trace and span ids, which ingest drops as retries.
            var payloads = SpanGenerator.Generate(Math.Min(Chunk, spans - stored), 500, seed: 42 + stored / Chunk, workload, failed);
            var sent = payloads.Sum(p => p.Spans);
            var result = await EndToEndLoad.RunAsync(ingest, payloads, clients: 8);
            if (result.AcknowledgedSpans != sent)
            {
                throw new InvalidOperationException($"the collector acknowledged {result.AcknowledgedSpans:N0} of {sent:N0} spans: it rejected the rest (see its log)");
            }

            log.WriteLine($"stored {stored + sent:N0} spans ({load.Elapsed.TotalSeconds:N0} s)");
        }
    }
}
