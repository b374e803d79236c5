using Grpc.Core;
using Grpc.Net.Client;
using Observability.Testing;

namespace Observability.Collector.Tests;

/// <summary>What the OTLP/gRPC port answers to bytes that are not an export request.</summary>
public sealed class GrpcReceiverTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly Method<byte[], byte[]> RawExport = new(
        MethodType.Unary,
        "opentelemetry.proto.collector.trace.v1.TraceService",
        "Export",
        Marshallers.Create(b => b, b => b),
        Marshallers.Create(b => b, b => b));

    [Fact]
    public async Task Malformed_protobuf_is_invalid_argument_and_the_port_keeps_serving()
    {
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString);
        using var channel = GrpcChannel.ForAddress(collector.GrpcEndpoint);
        var headers = new Metadata { { "authorization", "Bearer " + CollectorRunner.WriteKey } };

        var e = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker()
            .AsyncUnaryCall(RawExport, null, new CallOptions(headers), [0x0a, 0xff, 0xff, 0xff, 0x0f]).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);

        var ok = await new OpenTelemetry.Proto.Collector.Trace.V1.TraceService.TraceServiceClient(channel)
            .ExportAsync(OtlpFactory.ManyTraces("grpc-after-bad", null, 3), headers);
        Assert.Null(ok.PartialSuccess);
    }
}
