using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Observability.Collector.Configuration;
using Observability.Collector.Ingest;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Observability.Collector.Receivers;

// The Export methods take the request as raw bytes and parse it themselves: with the generated
// marshaller a message that does not decode fails inside gRPC as UNKNOWN, where OTLP wants
// INVALID_ARGUMENT (which clients do not retry). Grpc.AspNetCore binds a handler by name ("Export") and
// signature, and only to a virtual method declared on the type that carries [BindServiceMethod]: hence
// the two small abstract bindings.

[BindServiceMethod(typeof(TraceServiceBinding), nameof(BindService))]
internal abstract class TraceServiceBinding
{
    private static readonly Method<byte[], ExportTraceServiceResponse> ExportMethod =
        GrpcReplies.RawMethod("opentelemetry.proto.collector.trace.v1.TraceService", ExportTraceServiceResponse.Parser);

    public static void BindService(ServiceBinderBase binder, TraceServiceBinding? service) =>
        binder.AddMethod(ExportMethod, (UnaryServerMethod<byte[], ExportTraceServiceResponse>)null!);

    public abstract Task<ExportTraceServiceResponse> Export(byte[] request, ServerCallContext context);
}

[BindServiceMethod(typeof(LogsServiceBinding), nameof(BindService))]
internal abstract class LogsServiceBinding
{
    private static readonly Method<byte[], ExportLogsServiceResponse> ExportMethod =
        GrpcReplies.RawMethod("opentelemetry.proto.collector.logs.v1.LogsService", ExportLogsServiceResponse.Parser);

    public static void BindService(ServiceBinderBase binder, LogsServiceBinding? service) =>
        binder.AddMethod(ExportMethod, (UnaryServerMethod<byte[], ExportLogsServiceResponse>)null!);

    public abstract Task<ExportLogsServiceResponse> Export(byte[] request, ServerCallContext context);
}

/// <summary>OTLP/gRPC opentelemetry.proto.collector.trace.v1.TraceService/Export.</summary>
internal sealed class OtlpGrpcTraceService(IngestService ingest, IOptions<CollectorOptions> options) : TraceServiceBinding
{
    public override async Task<ExportTraceServiceResponse> Export(byte[] request, ServerCallContext context)
    {
        var reply = await ingest.IngestAsync(GrpcReplies.Parse(ExportTraceServiceRequest.Parser, request));
        GrpcReplies.ThrowIfNotAccepted(reply, options.Value.RetryAfter);
        return new ExportTraceServiceResponse
        {
            PartialSuccess = reply.Rejected == 0 ? null : new ExportTracePartialSuccess { RejectedSpans = reply.Rejected, ErrorMessage = reply.Message ?? string.Empty },
        };
    }
}

/// <summary>OTLP/gRPC opentelemetry.proto.collector.logs.v1.LogsService/Export.</summary>
internal sealed class OtlpGrpcLogsService(IngestService ingest, IOptions<CollectorOptions> options) : LogsServiceBinding
{
    public override async Task<ExportLogsServiceResponse> Export(byte[] request, ServerCallContext context)
    {
        var reply = await ingest.IngestAsync(GrpcReplies.Parse(ExportLogsServiceRequest.Parser, request));
        GrpcReplies.ThrowIfNotAccepted(reply, options.Value.RetryAfter);
        return new ExportLogsServiceResponse
        {
            PartialSuccess = reply.Rejected == 0 ? null : new ExportLogsPartialSuccess { RejectedLogRecords = reply.Rejected, ErrorMessage = reply.Message ?? string.Empty },
        };
    }
}

internal static class GrpcReplies
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);

    public static Method<byte[], TResponse> RawMethod<TResponse>(string service, MessageParser<TResponse> parser)
        where TResponse : IMessage<TResponse> =>
        new(MethodType.Unary, service, "Export", Raw, Marshallers.Create(r => r.ToByteArray(), parser.ParseFrom));

    public static TRequest Parse<TRequest>(MessageParser<TRequest> parser, byte[] bytes)
        where TRequest : IMessage<TRequest>
    {
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "the message is not valid OTLP protobuf: " + e.Message));
        }
    }

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
