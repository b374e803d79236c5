using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using GrpcFunction;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>
/// A real gRPC client (h2c) calling the sample gRPC function through the sidecar, exporting to a real collector: the
/// call's grpc-status, in trailers or in a trailers-only answer, decides the span's status and the snapshot.
/// </summary>
public sealed class GrpcTests(PostgresDatabase database, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const string Service = "sample.v1.Orders";
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task Statuses_the_server_caused_are_error_spans_with_snapshots_and_the_callers_are_not()
    {
        await using var sidecar = await SidecarRunner.StartGrpcAsync("grpc-fn", _collector);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{sidecar.Port}");
        var client = new Orders.OrdersClient(channel);

        var order = await client.GetAsync(new GetRequest { Id = "42" });
        Assert.Equal("order 42 from grpc-fn", order.Note);

        // Failed before any message: trailers-only answers, the status in the headers.
        (StatusCode Code, string Message)[] failures =
        [
            (StatusCode.InvalidArgument, "bad id"), (StatusCode.NotFound, "no such order"),
            (StatusCode.Internal, "database down"), (StatusCode.Unavailable, "try later: 100% busy"),
        ];
        foreach (var (code, message) in failures)
        {
            var failed = await Assert.ThrowsAsync<RpcException>(async () => await client.FailAsync(new FailRequest { Code = (int)code, Message = message }));
            Assert.Equal(code, failed.StatusCode);
        }

        // Failed after two messages: the status in the trailers.
        using (var list = client.List(new ListRequest { Count = 2, Code = (int)StatusCode.DataLoss, Message = "lost the rest" }))
        {
            var received = 0;
            var lost = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                await foreach (var _ in list.ResponseStream.ReadAllAsync())
                {
                    received++;
                }
            });
            Assert.Equal(2, received);
            Assert.Equal(StatusCode.DataLoss, lost.StatusCode);
        }

        var thrown = await Assert.ThrowsAsync<RpcException>(async () => await client.ThrowAsync(new ThrowRequest { Message = "handler blew up" }));
        Assert.Equal(StatusCode.Unknown, thrown.StatusCode);

        // A method the function does not have: UNIMPLEMENTED, a server-side code, but its path is the caller's to choose.
        var missing = new Method<GetRequest, Order>(MethodType.Unary, Service, "Missing", Marshallers.Create((GetRequest r) => r.ToByteArray(), GetRequest.Parser.ParseFrom), Marshallers.Create((Order o) => o.ToByteArray(), Order.Parser.ParseFrom));
        var unimplemented = await Assert.ThrowsAsync<RpcException>(async () => await channel.CreateCallInvoker().AsyncUnaryCall(missing, null, default, new GetRequest { Id = "1" }));
        Assert.Equal(StatusCode.Unimplemented, unimplemented.StatusCode);

        var get = Assert.Single(await _collector.SpansAsync("grpc-fn", $"{Service}/Get", n => n >= 1));
        AssertRpc(get, "Get", StatusCode.OK, error: false);
        var failSpans = await _collector.SpansAsync("grpc-fn", $"{Service}/Fail", n => n >= 4);
        Assert.Equal(4, failSpans.Count);
        var byCode = failSpans.ToDictionary(s => (StatusCode)s.GetProperty("attributes").GetProperty("rpc.grpc.status_code").GetInt32());
        AssertRpc(byCode[StatusCode.InvalidArgument], "Fail", StatusCode.InvalidArgument, error: false);
        AssertRpc(byCode[StatusCode.NotFound], "Fail", StatusCode.NotFound, error: false);
        AssertRpc(byCode[StatusCode.Internal], "Fail", StatusCode.Internal, error: true);
        AssertRpc(byCode[StatusCode.Unavailable], "Fail", StatusCode.Unavailable, error: true);
        Assert.Equal("INTERNAL: database down", byCode[StatusCode.Internal].GetProperty("status").GetProperty("message").GetString());
        var listSpan = Assert.Single(await _collector.SpansAsync("grpc-fn", $"{Service}/List", n => n >= 1));
        AssertRpc(listSpan, "List", StatusCode.DataLoss, error: true);
        var throwSpan = Assert.Single(await _collector.SpansAsync("grpc-fn", $"{Service}/Throw", n => n >= 1));
        AssertRpc(throwSpan, "Throw", StatusCode.Unknown, error: true);

        // One snapshot per server-side failure, none for the caller's mistakes.
        try
        {
            await Poll.UntilAsync(() => sidecar.Admin.GetStringAsync("/metrics"), m => MetricsText.Value(m, "obs_sidecar_snapshots_total{trigger=\"grpc_error\"}") >= 5, what: "five snapshots taken");
        }
        catch (TimeoutException)
        {
            output.WriteLine(sidecar.Output); // why a snapshot was not taken
            throw;
        }
        var snapshots = await _collector.SnapshotsAsync("grpc-fn", 5);
        Assert.Equal(5, snapshots.Count);
        Assert.All(snapshots, s => Assert.Equal("grpc_error", s.GetProperty("trigger").GetString()));
        var snapshotByTrace = snapshots.ToDictionary(s => s.GetProperty("traceId").GetString()!);
        AssertGrpcSnapshot(snapshotByTrace[TraceOf(byCode[StatusCode.Internal])], StatusCode.Internal, "INTERNAL", "database down");
        AssertGrpcSnapshot(snapshotByTrace[TraceOf(byCode[StatusCode.Unavailable])], StatusCode.Unavailable, "UNAVAILABLE", "try later: 100% busy");
        AssertGrpcSnapshot(snapshotByTrace[TraceOf(listSpan)], StatusCode.DataLoss, "DATA_LOSS", "lost the rest");
        var unknownMethod = Assert.Single(snapshots, s => s.GetProperty("snapshot").GetProperty("grpc").GetProperty("statusCode").GetInt32() == (int)StatusCode.Unimplemented);
        var unknownSpan = Assert.Single((await _collector.TraceAsync(unknownMethod.GetProperty("traceId").GetString()!)).GetProperty("spans").EnumerateArray());
        Assert.Equal("Missing", unknownSpan.GetProperty("attributes").GetProperty("rpc.method").GetString());
        // Not named as an RPC: the caller chose that path (the span keeps the proxy's ordinary, route-based name).
        Assert.NotEqual($"{Service}/Missing", unknownSpan.GetProperty("name").GetString());
        var threw = snapshotByTrace[TraceOf(throwSpan)].GetProperty("snapshot");
        AssertGrpcSnapshot(snapshotByTrace[TraceOf(throwSpan)], StatusCode.Unknown, "UNKNOWN", "Exception was thrown by handler.");
        output.WriteLine(threw.ToString());

        // The handler's exception, from the runtime, matched to this call by its trace id.
        Assert.Equal("trace", threw.GetProperty("exceptionsMatch").GetString());
        var exception = Assert.Single(threw.GetProperty("exceptions").EnumerateArray());
        Assert.Equal("System.InvalidOperationException", exception.GetProperty("type").GetString());
        Assert.Equal("handler blew up", exception.GetProperty("message").GetString());
        Assert.Contains("OrdersService.Throw", exception.GetProperty("stackTrace").GetString(), StringComparison.Ordinal);
    }

    private static string TraceOf(JsonElement span) => span.GetProperty("traceId").GetString()!;

    private static void AssertRpc(JsonElement span, string method, StatusCode code, bool error)
    {
        var attributes = span.GetProperty("attributes");
        Assert.Equal("grpc", attributes.GetProperty("rpc.system").GetString());
        Assert.Equal(Service, attributes.GetProperty("rpc.service").GetString());
        Assert.Equal(method, attributes.GetProperty("rpc.method").GetString());
        Assert.Equal((int)code, attributes.GetProperty("rpc.grpc.status_code").GetInt32());
        Assert.Equal(error ? "error" : "unset", span.GetProperty("status").GetProperty("code").GetString());
    }

    private static void AssertGrpcSnapshot(JsonElement snapshot, StatusCode code, string name, string message)
    {
        var grpc = snapshot.GetProperty("snapshot").GetProperty("grpc");
        Assert.Equal((int)code, grpc.GetProperty("statusCode").GetInt32());
        Assert.Equal(name, grpc.GetProperty("status").GetString());
        Assert.Equal(message, grpc.GetProperty("message").GetString());
    }
}
