using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Observability.Collector.Configuration;
using Observability.Collector.Ingest;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Collector.Receivers;

/// <summary>OTLP/gRPC TraceService/Export.</summary>
internal sealed class OtlpGrpcTraceService(IngestService ingest, IOptions<CollectorOptions> options) : TraceService.TraceServiceBase
{
    public override async Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context)
    {
        var reply = await ingest.IngestAsync(request);
        GrpcReplies.ThrowIfNotAccepted(reply, options.Value.RetryAfter);
        return new ExportTraceServiceResponse
        {
            PartialSuccess = reply.Rejected == 0 ? null : new ExportTracePartialSuccess { RejectedSpans = reply.Rejected, ErrorMessage = reply.Message ?? string.Empty },
        };
    }
}

/// <summary>OTLP/gRPC LogsService/Export.</summary>
internal sealed class OtlpGrpcLogsService(IngestService ingest, IOptions<CollectorOptions> options) : LogsService.LogsServiceBase
{
    public override async Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request, ServerCallContext context)
    {
        var reply = await ingest.IngestAsync(request);
        GrpcReplies.ThrowIfNotAccepted(reply, options.Value.RetryAfter);
        return new ExportLogsServiceResponse
        {
            PartialSuccess = reply.Rejected == 0 ? null : new ExportLogsPartialSuccess { RejectedLogRecords = reply.Rejected, ErrorMessage = reply.Message ?? string.Empty },
        };
    }
}

internal static class GrpcReplies
{
    /// <summary>
    /// OTLP/gRPC backpressure: UNAVAILABLE with a google.rpc.RetryInfo in grpc-status-details-bin, so the
    /// client retries after the delay; INVALID_ARGUMENT for data it must not retry.
    /// </summary>
    public static void ThrowIfNotAccepted(IngestReply reply, TimeSpan retryAfter)
    {
        switch (reply.Status)
        {
            case IngestStatus.Accepted:
                return;
            case IngestStatus.Invalid:
                throw new RpcException(new Status(StatusCode.InvalidArgument, reply.Message ?? "invalid data"));
            default:
                var details = new Google.Rpc.Status
                {
                    Code = (int)StatusCode.Unavailable,
                    Message = reply.Message ?? string.Empty,
                    Details = { Any.Pack(new Google.Rpc.RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }) },
                };
                throw new RpcException(
                    new Status(StatusCode.Unavailable, reply.Message ?? "unavailable"),
                    new Metadata { { "grpc-status-details-bin", details.ToByteArray() } });
        }
    }
}
