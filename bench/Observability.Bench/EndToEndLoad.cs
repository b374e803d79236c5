using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Bench;

/// <summary>What one end-to-end round did.</summary>
internal sealed record LoadResult(long AcknowledgedSpans, TimeSpan Elapsed, long Retries)
{
    public double SpansPerSecond => AcknowledgedSpans / Elapsed.TotalSeconds;
}

/// <summary>
/// Sends the pre-encoded bodies to POST /v1/traces from several concurrent client tasks, each taking the
/// next body as soon as its previous one is acknowledged (200 means committed). A 429/503 or a transport
/// error is retried after a short pause and counted; the clock stops when the last body is acknowledged.
/// </summary>
internal static class EndToEndLoad
{
    private static readonly MediaTypeHeaderValue Protobuf = new("application/x-protobuf");

    // Shorter than the collector's Retry-After on purpose: this measures what it accepts when pushed.
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(20);

    public static async Task<LoadResult> RunAsync(HttpClient ingest, IReadOnlyList<Payload> payloads, int clients)
    {
        var next = -1;
        long acknowledged = 0, retries = 0;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < payloads.Count)
            {
                long accepted;
                while ((accepted = await SendAsync(ingest, payloads[i])) < 0)
                {
                    Interlocked.Increment(ref retries);
                    await Task.Delay(RetryPause);
                }

                Interlocked.Add(ref acknowledged, accepted);
            }
        })));
        return new LoadResult(acknowledged, Stopwatch.GetElapsedTime(started), retries);
    }

    /// <returns>Spans acknowledged, or -1 when the request must be retried.</returns>
    /// <exception cref="InvalidOperationException">An answer that is neither success nor retryable.</exception>
    private static async Task<long> SendAsync(HttpClient ingest, Payload payload)
    {
        using var content = new ByteArrayContent(payload.Body);
        content.Headers.ContentType = Protobuf;
        try
        {
            using var response = await ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), content);
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            {
                return -1;
            }

            var body = await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"POST /v1/traces answered {(int)response.StatusCode}: {Google.Rpc.Status.Parser.ParseFrom(body).Message}");
            }

            var reply = ExportTraceServiceResponse.Parser.ParseFrom(body);
            return payload.Spans - (reply.PartialSuccess?.RejectedSpans ?? 0);
        }
        catch (HttpRequestException)
        {
            return -1;
        }
        catch (TaskCanceledException)
        {
            return -1; // HttpClient's timeout
        }
    }
}
