using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Observability.Collector.Configuration;
using Observability.Collector.Ingest;
using Observability.Collector.Metrics;
using Observability.Core.Otlp;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Collector.Receivers;

/// <summary>
/// OTLP/HTTP: POST /v1/traces and /v1/logs, bodies in protobuf or JSON, optionally gzip. Answers follow
/// the OTLP spec: 200 with partial_success, 400 with a google.rpc.Status for bad data, 413, 415, and
/// 429/503 with Retry-After when the collector cannot take the data now.
/// </summary>
internal sealed class OtlpHttpReceiver(IngestService ingest, CollectorMetrics metrics, IOptions<CollectorOptions> options)
{
    private const string Protobuf = "application/x-protobuf";
    private const string Json = "application/json";

    private readonly CollectorOptions _options = options.Value;

    public Task TracesAsync(HttpContext http) => HandleAsync(
        http,
        ExportTraceServiceRequest.Parser,
        ingest.IngestAsync,
        r => new ExportTraceServiceResponse
        {
            PartialSuccess = r.Rejected == 0 ? null : new ExportTracePartialSuccess { RejectedSpans = r.Rejected, ErrorMessage = r.Message ?? string.Empty },
        });

    public Task LogsAsync(HttpContext http) => HandleAsync(
        http,
        ExportLogsServiceRequest.Parser,
        ingest.IngestAsync,
        r => new ExportLogsServiceResponse
        {
            PartialSuccess = r.Rejected == 0 ? null : new ExportLogsPartialSuccess { RejectedLogRecords = r.Rejected, ErrorMessage = r.Message ?? string.Empty },
        });

    private async Task HandleAsync<TRequest, TResponse>(
        HttpContext http,
        MessageParser<TRequest> parser,
        Func<TRequest, Task<IngestReply>> ingestAsync,
        Func<IngestReply, TResponse> respond)
        where TRequest : IMessage<TRequest>, new()
        where TResponse : IMessage<TResponse>
    {
        var request = http.Request;
        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed.MediaType.Value : null;
        var isJson = string.Equals(mediaType, Json, StringComparison.OrdinalIgnoreCase);
        if (!isJson && !string.Equals(mediaType, Protobuf, StringComparison.OrdinalIgnoreCase))
        {
            await FailAsync(http, StatusCodes.Status415UnsupportedMediaType, isJson, $"Content-Type must be {Protobuf} or {Json}, not \"{request.ContentType}\"", "unsupported_media_type");
            return;
        }

        var encoding = request.Headers.ContentEncoding.ToString();
        var gzip = string.Equals(encoding, "gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase))
        {
            await FailAsync(http, StatusCodes.Status415UnsupportedMediaType, isJson, $"Content-Encoding \"{encoding}\" is not supported: use gzip or none", "unsupported_encoding");
            return;
        }

        if (request.ContentLength > _options.MaxRequestBodyBytes)
        {
            RequestBody.CloseAfterResponse(http);
            await FailAsync(http, StatusCodes.Status413PayloadTooLarge, isJson, $"the request body is larger than {_options.MaxRequestBodyBytes} bytes", "too_large");
            return;
        }

        // Kestrel's cap, a little above ours: RequestBody refuses at ours, then reads on so the client gets its 413.
        RequestBody.AllowDrainPast(http, _options.MaxRequestBodyBytes);

        TRequest message;
        try
        {
            using var body = await RequestBody.ReadAsync(request.Body, gzip, _options.MaxRequestBodyBytes, http.RequestAborted);
            message = isJson ? OtlpJson.Parse<TRequest>(body.Span) : parser.ParseFrom(body.Span);
        }
        catch (BodyTooLargeException e)
        {
            await RequestBody.DrainAsync(http);
            await FailAsync(http, StatusCodes.Status413PayloadTooLarge, isJson, e.Message, "too_large");
            return;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel's own cap, met by a chunked body that gave no Content-Length.
            await FailAsync(http, e.StatusCode, isJson, $"the request body is larger than {_options.MaxRequestBodyBytes} bytes", "too_large");
            return;
        }
        catch (Exception e) when (e is InvalidDataException or InvalidProtocolBufferException or OtlpFormatException)
        {
            var what = e is InvalidDataException ? "gzip" : isJson ? "OTLP JSON" : "OTLP protobuf";
            await FailAsync(http, StatusCodes.Status400BadRequest, isJson, $"the body is not valid {what}: {e.Message}", "malformed");
            return;
        }

        var reply = await ingestAsync(message);
        switch (reply.Status)
        {
            case IngestStatus.Accepted:
                await WriteAsync(http, StatusCodes.Status200OK, isJson, respond(reply));
                break;
            case IngestStatus.Invalid:
                await FailAsync(http, StatusCodes.Status400BadRequest, isJson, reply.Message!, reason: null);
                break;
            default:
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(_options.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await FailAsync(http, reply.Status == IngestStatus.QueueFull ? StatusCodes.Status429TooManyRequests : StatusCodes.Status503ServiceUnavailable, isJson, reply.Message!, reason: null);
                break;
        }
    }

    private Task FailAsync(HttpContext http, int status, bool json, string message, string? reason)
    {
        if (reason is not null)
        {
            metrics.RequestsRejected.WithLabels(reason).Inc();
        }

        // The OTLP spec's error body: a google.rpc.Status in the request's own encoding.
        return WriteAsync(http, status, json, new Google.Rpc.Status { Code = RpcCodeFor(status), Message = message });
    }

    internal static Task WriteAsync(HttpContext http, int status, bool json, IMessage message)
    {
        http.Response.StatusCode = status;
        if (json)
        {
            http.Response.ContentType = Json;
            return http.Response.WriteAsync(OtlpJson.Format(message));
        }

        http.Response.ContentType = Protobuf;
        return http.Response.Body.WriteAsync(message.ToByteArray()).AsTask();
    }

    // google.rpc.Code numbers.
    private static int RpcCodeFor(int httpStatus) => httpStatus switch
    {
        400 or 413 or 415 => 3, // INVALID_ARGUMENT
        401 => 16, // UNAUTHENTICATED
        403 => 7, // PERMISSION_DENIED
        429 => 8, // RESOURCE_EXHAUSTED
        _ => 14, // UNAVAILABLE
    };
}
