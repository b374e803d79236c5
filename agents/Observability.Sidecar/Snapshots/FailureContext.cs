using System.Diagnostics;
using Observability.Sidecar.Supervision;

namespace Observability.Sidecar.Snapshots;

/// <summary>Why a failure snapshot was taken. The values are the snapshot's <c>trigger</c>.</summary>
public static class FailureTrigger
{
    public const string ServerError = "status_5xx";
    public const string Timeout = "timeout";
    public const string Refused = "upstream_refused";
    public const string Reset = "upstream_reset";
    public const string NotReady = "not_ready";
    public const string Crash = "crash";
    public const string UnhandledException = "unhandled_exception";
    public const string GrpcError = "grpc_error";
}

/// <summary>A captured HTTP message: headers as sent, the first bytes of its body.</summary>
public sealed record CapturedMessage(IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] BodyHead, long BodyBytes, string? ContentType);

/// <summary>
/// What the proxy knows when an invocation fails, handed over without blocking the response; the snapshot
/// service adds the slower parts (runtime exceptions, logs, process state, environment, dump) off the request path.
/// </summary>
public sealed record FailureContext
{
    public required string Trigger { get; init; }
    public required DateTime Time { get; init; }
    public FunctionInstance? Instance { get; init; }
    public ActivityContext Span { get; init; }
    public DateTime? RequestReceived { get; init; }
    public string? Method { get; init; }
    public string? Url { get; init; }
    public string? Protocol { get; init; }
    public CapturedMessage? Request { get; init; }
    public int? Status { get; init; }
    public CapturedMessage? Response { get; init; }
    /// <summary>The proxy's own error (timeout, refused connection), when there was one.</summary>
    public string? Error { get; init; }
    public int? ExitCode { get; init; }
    /// <summary>When the proxy was done with the request: runtime exceptions after it (plus a little) are not its own.</summary>
    public DateTime? RequestEnded { get; init; }
    /// <summary>How many other requests overlapped this one (null: not a request's failure).</summary>
    public int? OtherRequests { get; init; }
    /// <summary>The grpc-status a gRPC call ended with, and its grpc-message (decoded).</summary>
    public int? GrpcStatus { get; init; }
    public string? GrpcMessage { get; init; }
}
