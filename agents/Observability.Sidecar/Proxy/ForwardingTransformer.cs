using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Observability.Sidecar.Proxy;

/// <summary>
/// YARP's default transforms, plus: the invocation span's context goes to the function as W3C
/// traceparent/tracestate in place of the caller's, and the function's response body is hooked to the
/// <see cref="CoalescedResponseBody"/> so it can tell when to flush.
/// </summary>
internal sealed class ForwardingTransformer : HttpTransformer
{
    public static readonly ForwardingTransformer Instance = new();

    /// <remarks>
    /// Done here rather than by HttpClient's propagator, which would inject the id of its own client activity,
    /// a span no one exports, and the function's children would hang off a missing parent.
    /// </remarks>
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.Headers.Remove("traceparent");
        proxyRequest.Headers.Remove("tracestate");
        if (Activity.Current is { } span && span.Source == Telemetry.SidecarTracing.Source)
        {
            proxyRequest.Headers.TryAddWithoutValidation("traceparent", span.Id);
            if (!string.IsNullOrEmpty(span.TraceStateString))
            {
                proxyRequest.Headers.TryAddWithoutValidation("tracestate", span.TraceStateString);
            }
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (proxyResponse is not null && httpContext.Features.Get<CoalescedResponseBody>() is { } body)
        {
            proxyResponse.Content = await body.FlushBeforeWaitingAsync(proxyResponse.Content, cancellationToken);
        }

        return copyBody;
    }
}
