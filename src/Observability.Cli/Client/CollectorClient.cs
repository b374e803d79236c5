using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Observability.Cli.Client;

/// <summary>
/// The collector's query API for CLI commands: GET with the read key, JSON in, and every failure turned into a
/// <see cref="CollectorClientException"/> that says what went wrong and what to do.
/// </summary>
internal sealed class CollectorClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly CollectorConnection _connection;

    public CollectorClient(CollectorConnection connection, TimeSpan? timeout = null)
    {
        _connection = connection;
        _http = new HttpClient { BaseAddress = connection.BaseUrl, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", connection.ReadKey);
    }

    public Uri BaseUrl => _connection.BaseUrl;

    /// <summary>GETs <paramref name="pathAndQuery"/> (relative, such as "api/v1/slis?function=f") and reads its JSON.</summary>
    public async Task<T> GetAsync<T>(string pathAndQuery, CancellationToken ct)
    {
        using var response = await SendAsync(pathAndQuery, HttpCompletionOption.ResponseContentRead, ct);
        return await response.Content.ReadFromJsonAsync<T>(CliJson.Options, ct)
            ?? throw new CollectorClientException($"the collector at {BaseUrl} answered {pathAndQuery} with an empty body");
    }

    /// <summary>
    /// GETs <paramref name="pathAndQuery"/> and returns the answer once its headers are in, for the caller to stream the
    /// body (the client's timeout covers only the wait for the headers). Errors as for <see cref="GetAsync{T}"/>.
    /// </summary>
    public Task<HttpResponseMessage> GetStreamingAsync(string pathAndQuery, CancellationToken ct) =>
        SendAsync(pathAndQuery, HttpCompletionOption.ResponseHeadersRead, ct);

    private async Task<HttpResponseMessage> SendAsync(string pathAndQuery, HttpCompletionOption completion, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(new Uri(pathAndQuery, UriKind.Relative), completion, ct);
        }
        catch (HttpRequestException e)
        {
            throw new CollectorClientException(
                $"cannot reach the collector at {BaseUrl} ({e.Message}): is it running (obs up)? Give its API address with --collector or OBS_COLLECTOR_URL", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new CollectorClientException($"the collector at {BaseUrl} did not answer within {_http.Timeout.TotalSeconds:0} s", e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var reason = await ErrorOf(response, ct);
            var error = response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new CollectorClientException(
                    $"the collector at {BaseUrl} refused the read key from {_connection.KeySource} ({reason}): give its read key with --read-key or OBS_READ_KEY"),
                HttpStatusCode.NotFound => new CollectorClientException(
                    $"the collector at {BaseUrl} has no {pathAndQuery.Split('?')[0]} ({reason}): is it the collector's API port, and is the collector as new as this obs?"),
                _ => new CollectorClientException($"the collector at {BaseUrl} answered {(int)response.StatusCode} {response.ReasonPhrase}: {reason}"),
            };
            error.StatusCode = response.StatusCode;
            error.Reason = reason;
            throw error;
        }
    }

    public void Dispose() => _http.Dispose();

    // The collector answers errors as { "error": reason }; anything else is shown as it came.
    private static async Task<string> ErrorOf(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error))
            {
                return error.ToString();
            }
        }
        catch (JsonException)
        {
            // not JSON: fall through
        }

        return string.IsNullOrWhiteSpace(body) ? CollectorClientException.NoDetails : body.Trim();
    }
}

/// <summary>The collector could not be asked, or refused: the message says why and what to do.</summary>
internal sealed class CollectorClientException : Exception
{
    /// <summary>The <see cref="Reason"/> of an answer without a body (such as a route this collector does not have).</summary>
    public const string NoDetails = "no details";

    public CollectorClientException(string message)
        : base(message)
    {
    }

    public CollectorClientException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>The collector's answer when it answered with an error; null when it could not be asked.</summary>
    public HttpStatusCode? StatusCode { get; set; }

    /// <summary>The collector's own reason (its { "error" }), or <see cref="NoDetails"/>.</summary>
    public string? Reason { get; set; }
}
