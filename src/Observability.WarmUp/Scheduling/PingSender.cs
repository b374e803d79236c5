using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using Observability.WarmUp.Storage;

namespace Observability.WarmUp.Scheduling;

/// <summary>What one ping found: the outcome, the status of the answer that decided it, the slowest request's latency.</summary>
internal sealed record PingResult(string Outcome, int? StatusCode, TimeSpan Latency, string? Problem);

/// <summary>
/// Sends one ping: as many concurrent requests to the sidecar as instances are to be kept warm, each with the
/// warm-up header and token. The sidecar answers X-Obs-Warmup-Cold: true when the request had to start the function.
/// Cold when any request found it cold; failed when any request failed, or was answered without that header (the
/// sidecar did not take the token, or something else answered).
/// </summary>
internal sealed class PingSender(HttpClient http, IOptions<WarmUpOptions> options, TimeProvider time)
{
    /// <summary>The sidecar's answer header (agents/Observability.Sidecar/Proxy/WarmUpGate.cs).</summary>
    public const string ColdHeader = "X-Obs-Warmup-Cold";

    public async Task<PingResult> SendAsync(PlannedPing ping, CancellationToken ct)
    {
        var results = await Task.WhenAll(Enumerable.Range(0, ping.Instances).Select(_ => SendOneAsync(ping.Url, ct)));
        var latency = results.Max(r => r.Latency);
        var failed = results.FirstOrDefault(r => r.Outcome == PingOutcomes.Failed);
        if (failed is not null)
        {
            return failed with { Latency = latency };
        }

        var cold = results.FirstOrDefault(r => r.Outcome == PingOutcomes.Cold);
        return (cold ?? results[0]) with { Latency = latency };
    }

    private async Task<PingResult> SendOneAsync(Uri url, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation(options.Value.WarmUpHeader, options.Value.WarmUpToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.PingTimeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var latency = time.GetElapsedTime(started);
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                return new PingResult(PingOutcomes.Failed, status, latency, $"{url} answered {status}");
            }

            return ColdAnswer(response.Headers) switch
            {
                "true" => new PingResult(PingOutcomes.Cold, status, latency, null),
                "false" => new PingResult(PingOutcomes.Warm, status, latency, null),
                _ => new PingResult(PingOutcomes.Failed, status, latency, $"{url} answered without {ColdHeader}: is it a sidecar started with this --warmup-token?"),
            };
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return new PingResult(PingOutcomes.Failed, null, time.GetElapsedTime(started), $"{url}: {e.Message}");
        }
    }

    private static string? ColdAnswer(HttpResponseHeaders headers) =>
        headers.TryGetValues(ColdHeader, out var values) ? values.FirstOrDefault()?.Trim().ToLowerInvariant() : null;
}
