using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Observability.Sidecar.Proxy;

/// <summary>
/// How a gRPC call ended. A gRPC function answers HTTP 200 whatever happened; the outcome is the <c>grpc-status</c>
/// (and <c>grpc-message</c>) in the response trailers, or in the headers of a trailers-only response (a call that
/// failed before its first message). Read only for requests with a gRPC content type, so HTTP requests pay nothing.
/// </summary>
internal readonly record struct GrpcStatus(int Code, string? Message)
{
    // The OpenTelemetry RPC conventions (rpc/grpc.md).
    private const string RpcSystem = "rpc.system";
    private const string RpcService = "rpc.service";
    private const string RpcMethod = "rpc.method";
    private const string RpcGrpcStatusCode = "rpc.grpc.status_code";
    private const int Unimplemented = 12;

    private static readonly string[] Names =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    /// <summary>The code's name (INTERNAL, UNAVAILABLE, ...), or its number for a code gRPC does not define.</summary>
    public string Name => Code >= 0 && Code < Names.Length ? Names[Code] : Code.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The codes that mean the server failed, which the conventions make a server span's error: UNKNOWN, DEADLINE_EXCEEDED,
    /// UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. The others (INVALID_ARGUMENT, NOT_FOUND, ...) are the caller's
    /// problem: the server did its job.
    /// </summary>
    public bool IsServerFault => Code is 2 or 4 or 12 or 13 or 14 or 15;

    /// <summary>application/grpc, application/grpc+proto, ...; not gRPC-Web, whose status travels in the body.</summary>
    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
        && (type.Length == 16 || type[16] is '+' or ';');

    /// <summary>The status the function ended the call with; null when it sent none (the call was cut off).</summary>
    public static GrpcStatus? Read(HttpContext http)
    {
        var trailers = http.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        if (Parse(trailers?["grpc-status"] ?? default, trailers?["grpc-message"] ?? default) is { } status)
        {
            return status;
        }

        var headers = http.Response.Headers;
        return Parse(headers["grpc-status"], headers["grpc-message"]);
    }

    /// <summary>
    /// The RPC attributes from the path (/package.Service/Method) and the status; a span name of
    /// <c>package.Service/Method</c> as the conventions have it, only when a gRPC server answered for a method it has:
    /// not for UNIMPLEMENTED or no status at all, whose path is whatever the caller sent and must not become an
    /// operation (the span keeps its route-based name).
    /// </summary>
    public static void Tag(Activity span, string path, GrpcStatus? status)
    {
        span.SetTag(RpcSystem, "grpc");
        var slash = path.LastIndexOf('/');
        if (slash > 1)
        {
            span.SetTag(RpcService, path[1..slash]);
            span.SetTag(RpcMethod, path[(slash + 1)..]);
            if (status is { Code: not Unimplemented })
            {
                span.DisplayName = path[1..];
            }
        }

        if (status is { } s)
        {
            span.SetTag(RpcGrpcStatusCode, s.Code);
            if (s.IsServerFault)
            {
                span.SetStatus(ActivityStatusCode.Error, s.Message is { Length: > 0 } message ? $"{s.Name}: {message}" : s.Name);
            }
        }
    }

    private static GrpcStatus? Parse(StringValues code, StringValues message) =>
        int.TryParse(code.ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? new GrpcStatus(value, message.Count > 0 ? Uri.UnescapeDataString(message.ToString()) : null)
            : null;
}
