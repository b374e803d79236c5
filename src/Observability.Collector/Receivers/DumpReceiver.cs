using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Observability.Collector.Configuration;
using Observability.Collector.Metrics;
using Observability.Collector.Storage;

namespace Observability.Collector.Receivers;

/// <summary>
/// PUT /v1/dumps/{dumpId} on the OTLP/HTTP port (write key): a dump a sidecar wrote, as the raw body
/// (application/octet-stream), streamed into PostgreSQL. 201 once committed; 409 when that id is already stored
/// (a dump is written once); 413 over MaxDumpBytes; 400 for an id that is not one; 415 for another content type.
/// Every refusal is counted in obs_collector_dump_uploads_total.
/// </summary>
internal sealed partial class DumpReceiver(DumpStore store, CollectorMetrics metrics, IOptions<CollectorOptions> options, TimeProvider time, ILogger<DumpReceiver> logger)
{
    private const string OctetStream = "application/octet-stream";
    private const int MaxIdLength = 64;

    private readonly long _maxBytes = options.Value.MaxDumpBytes;

    public async Task PutAsync(string dumpId, HttpContext http)
    {
        var request = http.Request;
        if (!IsDumpId(dumpId))
        {
            await RefuseAsync(http, StatusCodes.Status400BadRequest, "bad_id", $"\"{dumpId}\" is not a dump id: 1 to {MaxIdLength} letters, digits, '-' or '_' (sidecars send a GUID as 32 hex digits)");
            return;
        }

        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed.MediaType.Value : null;
        if (!string.Equals(mediaType, OctetStream, StringComparison.OrdinalIgnoreCase))
        {
            await RefuseAsync(http, StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", $"Content-Type must be {OctetStream}, not \"{request.ContentType}\"");
            return;
        }

        var encoding = request.Headers.ContentEncoding.ToString();
        if (encoding.Length > 0 && !string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase))
        {
            await RefuseAsync(http, StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", $"Content-Encoding \"{encoding}\" is not supported for dumps: send the raw bytes");
            return;
        }

        // Kestrel's cap is the OTLP body limit; a dump has its own, and the drain reads a little past it.
        RequestBody.AllowDrainPast(http, _maxBytes);

        try
        {
            if (request.ContentLength > _maxBytes)
            {
                throw new DumpTooLargeException(_maxBytes);
            }

            if (await store.WriteAsync(dumpId, request.Body, _maxBytes, time.GetUtcNow().UtcDateTime, http.RequestAborted) is not { } bytes)
            {
                // Its first upload was committed (a retry whose 201 was lost), or someone sends an id they read.
                await DrainUnlessWaitingAsync(http);
                await RefuseAsync(http, StatusCodes.Status409Conflict, "exists", $"dump {dumpId} is already stored; a dump is written once and never replaced");
                return;
            }

            metrics.DumpUploads.WithLabels("stored").Inc();
            metrics.DumpBytes.Inc(bytes);
            LogStored(dumpId, bytes);
            http.Response.StatusCode = StatusCodes.Status201Created;
            await http.Response.WriteAsJsonAsync(new { id = dumpId, bytes }, http.RequestAborted);
        }
        catch (DumpTooLargeException e)
        {
            await DrainUnlessWaitingAsync(http);
            await RefuseAsync(http, StatusCodes.Status413PayloadTooLarge, "too_large", e.Message);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await RefuseAsync(http, StatusCodes.Status413PayloadTooLarge, "too_large", new DumpTooLargeException(_maxBytes).Message);
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException || (e is OperationCanceledException && http.RequestAborted.IsCancellationRequested))
        {
            // The sidecar went away mid-upload: the transaction rolled back, and it retries.
            metrics.DumpUploads.WithLabels("aborted").Inc();
            LogAborted(dumpId, e.Message);
        }
        catch (NpgsqlException e)
        {
            LogFailed(dumpId, e.Message);
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(options.Value.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await RefuseAsync(http, StatusCodes.Status503ServiceUnavailable, "error", $"the dump could not be stored, retry later: {e.Message}");
        }
    }

    /// <summary>
    /// Reads what the client sends before a refusal is answered, unless it waits for 100 Continue: it has sent
    /// nothing yet, and reading would ask it for the whole body; the connection then closes after the answer.
    /// </summary>
    private static Task DrainUnlessWaitingAsync(HttpContext http)
    {
        if (!http.Request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase))
        {
            return RequestBody.DrainAsync(http);
        }

        RequestBody.CloseAfterResponse(http);
        return Task.CompletedTask;
    }

    /// <summary>The ids a sidecar may give: short, and safe anywhere (a file name, a URL, a log line).</summary>
    internal static bool IsDumpId(string value) =>
        value.Length is > 0 and <= MaxIdLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private Task RefuseAsync(HttpContext http, int status, string outcome, string message)
    {
        metrics.DumpUploads.WithLabels(outcome).Inc();
        if (http.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new { error = message });
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Stored dump {DumpId}: {Bytes} bytes")]
    private partial void LogStored(string dumpId, long bytes);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Dump {DumpId} upload ended before its last byte; nothing kept: {Reason}")]
    private partial void LogAborted(string dumpId, string reason);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "Could not store dump {DumpId}: {Reason}")]
    private partial void LogFailed(string dumpId, string reason);
}
