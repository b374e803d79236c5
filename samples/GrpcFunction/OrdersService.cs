using Grpc.Core;

namespace GrpcFunction;

/// <summary>The sample's service: each method is one outcome the sidecar has to observe.</summary>
internal sealed class OrdersService(FunctionName name) : Orders.OrdersBase
{
    public override Task<Order> Get(GetRequest request, ServerCallContext context) =>
        Task.FromResult(new Order { Id = request.Id, Note = $"order {request.Id} from {name.Value}" });

    // Thrown before any message is written, so Grpc.AspNetCore answers trailers-only: the status in the headers.
    public override Task<Order> Fail(FailRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(ToStatusCode(request.Code), request.Message));

    public override async Task<Order> Throw(ThrowRequest request, ServerCallContext context)
    {
        if (request.DelayMs > 0)
        {
            await Task.Delay(request.DelayMs, context.CancellationToken);
        }

        throw new InvalidOperationException(request.Message.Length > 0 ? request.Message : $"sample failure: {name.Value} was asked to throw");
    }

    // Messages first, then the status: it travels in the trailers of a response that has already started.
    public override async Task List(ListRequest request, IServerStreamWriter<Order> responseStream, ServerCallContext context)
    {
        for (var i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(new Order { Id = $"{i}", Note = $"order {i} from {name.Value}" }, context.CancellationToken);
        }

        if (request.Code != 0)
        {
            throw new RpcException(new Status(ToStatusCode(request.Code), request.Message));
        }
    }

    private static StatusCode ToStatusCode(int code) =>
        code is >= 0 and <= 16 ? (StatusCode)code : throw new RpcException(new Status(StatusCode.InvalidArgument, $"no status code {code}"));
}
