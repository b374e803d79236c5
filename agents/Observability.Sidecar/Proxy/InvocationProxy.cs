using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Observability.Core.Semantics;
using Observability.Sidecar.Configuration;
using Observability.Sidecar.Supervision;
using Observability.Sidecar.Telemetry;
using Yarp.ReverseProxy.Forwarder;

namespace Observability.Sidecar.Proxy;

/// <summary>
/// Every request on the proxy port is one invocation: wait for the function to accept (bounded), open a
/// SERVER span (continuing the caller's traceparent), forward with YARP (which passes the span's context
/// on to the function), and close the span with the response. The first request of a process also emits
/// the cold-start record. Telemetry work never fails or holds the request: spans are queued for export.
/// </summary>
public sealed class InvocationProxy(
    IHttpForwarder forwarder,
    FunctionSupervisor supervisor,
    ColdStartRecorder coldStarts,
    SidecarMetrics metrics,
    IOptions<SidecarOptions> options,
    TimeProvider time) : IDisposable
{
    private readonly SidecarOptions _options = options.Value;
    private readonly string _upstream = $"http://{options.Value.UpstreamHost}:{options.Value.UpstreamPort}/";
    private readonly ForwarderRequestConfig _requestConfig = new() { ActivityTimeout = options.Value.UpstreamTimeout };
    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = null, // TraceContextTransformer sets traceparent from the invocation span
        ConnectTimeout = TimeSpan.FromSeconds(15),
    });

    public async Task InvokeAsync(HttpContext http)
    {
        var received = time.GetUtcNow().UtcDateTime;
        using var request = supervisor.BeginRequest();
        var warmUp = http.Request.Headers.ContainsKey(_options.WarmUpHeader);
        using var span = StartSpan(http, received, warmUp);

        FunctionInstance instance;
        try
        {
            instance = await supervisor.ReadyInstanceAsync(received, http.RequestAborted);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            await FailAsync(http, span, StatusCodes.Status503ServiceUnavailable, "function not ready: " + e.Message);
            return;
        }

        var cold = instance.TryClaimColdStart();
        span?.SetTag(FaasConventions.FaasColdStart, cold);

        var forwarded = time.GetTimestamp();
        var error = await forwarder.SendAsync(http, _upstream, _client, _requestConfig, TraceContextTransformer.Instance);
        metrics.UpstreamDuration.Observe(time.GetElapsedTime(forwarded).TotalSeconds);
        if (error != ForwarderError.None)
        {
            var status = error == ForwarderError.RequestTimedOut ? StatusCodes.Status504GatewayTimeout : http.Response.StatusCode;
            var detail = http.Features.Get<IForwarderErrorFeature>()?.Exception?.Message ?? error.ToString();
            span?.SetStatus(ActivityStatusCode.Error, $"{error}: {detail}");
            if (!http.Response.HasStarted)
            {
                http.Response.StatusCode = status;
            }
        }

        var code = http.Response.StatusCode;
        metrics.Requests.WithLabels(code.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        span?.SetTag(FaasConventions.HttpResponseStatusCode, code);
        if (code >= 500)
        {
            span?.SetStatus(ActivityStatusCode.Error);
        }

        if (span is not null && cold)
        {
            coldStarts.Record(instance, await instance.Listening, received, time.GetUtcNow().UtcDateTime, span.Context);
        }
    }

    public void Dispose() => _client.Dispose();

    private static Activity? StartSpan(HttpContext http, DateTime received, bool warmUp)
    {
        var headers = http.Request.Headers;
        ActivityContext.TryParse(headers.TraceParent, headers.TraceState, isRemote: true, out var parent);
        var path = http.Request.Path.Value ?? "/";
        var span = SidecarTracing.Source.StartActivity($"{http.Request.Method} {path}", ActivityKind.Server, parent, startTime: received);
        if (span is null)
        {
            return null;
        }

        span.SetTag(FaasConventions.FaasTrigger, "http");
        span.SetTag(FaasConventions.FaasInvocationId, span.SpanId.ToHexString());
        span.SetTag(FaasConventions.HttpRequestMethod, http.Request.Method);
        span.SetTag(FaasConventions.UrlPath, path);
        span.SetTag("url.scheme", http.Request.Scheme);
        span.SetTag("server.port", http.Connection.LocalPort);
        span.SetTag("network.protocol.version", http.Request.Protocol.Replace("HTTP/", string.Empty, StringComparison.Ordinal));
        if (headers.UserAgent.Count > 0)
        {
            span.SetTag("user_agent.original", headers.UserAgent.ToString());
        }

        if (warmUp)
        {
            span.SetTag(ObsConventions.WarmUp, true);
        }

        return span;
    }

    private async Task FailAsync(HttpContext http, Activity? span, int status, string message)
    {
        span?.SetStatus(ActivityStatusCode.Error, message);
        span?.SetTag(FaasConventions.HttpResponseStatusCode, status);
        metrics.Requests.WithLabels(status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        http.Response.StatusCode = status;
        await http.Response.WriteAsync(message);
    }
}
