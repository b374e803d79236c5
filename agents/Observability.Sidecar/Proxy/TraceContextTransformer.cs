using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Observability.Sidecar.Proxy;

/// <summary>
/// Passes the invocation span's context on to the function as W3C traceparent/tracestate, in place of the
/// caller's. Done here rather than by HttpClient's propagator, which would inject the id of its own
/// client activity, a span no one exports, and the function's children would hang off a missing parent.
/// </summary>
internal sealed class TraceContextTransformer : HttpTransformer
{
    public static readonly TraceContextTransformer Instance = new();

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
}
