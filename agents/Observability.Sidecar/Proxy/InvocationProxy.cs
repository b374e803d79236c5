using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Observability.Otlp.Semantics;
using Observability.Sidecar.Configuration;
using Observability.Sidecar.Snapshots;
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
    SnapshotService snapshots,
    SidecarMetrics metrics,
    SpanExport spans,
    IOptions<SidecarOptions> options,
    TimeProvider time) : IDisposable
{
    // How long a failed connection waits for the process to be seen exiting, to tell a crash from a reset.
    private static readonly TimeSpan CrashGrace = TimeSpan.FromMilliseconds(500);

    private readonly SidecarOptions _options = options.Value;
    private readonly RequestOverlap _overlap = new(time);
    private readonly string _upstream = $"http://{options.Value.UpstreamHost}:{options.Value.UpstreamPort}/";
    private readonly RouteTable _routes = new(options.Value.Routes);
    private readonly WarmUpGate _warmUps = new(options.Value.WarmUpHeader, options.Value.WarmUpToken);
    private readonly ForwarderRequestConfig _requestConfig = new()
    {
        ActivityTimeout = options.Value.UpstreamTimeout,
        // To a plain-http function, "2.0 or lower" means HTTP/1.1; h2c needs HTTP/2 exactly.
        Version = options.Value.Http2 ? HttpVersion.Version20 : HttpVersion.Version11,
        VersionPolicy = options.Value.Http2 ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
    };
    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = null, // ForwardingTransformer sets traceparent from the invocation span
        ConnectTimeout = TimeSpan.FromSeconds(15),
    });

    public async Task InvokeAsync(HttpContext http)
    {
        var received = time.GetUtcNow().UtcDateTime;
        if (!spans.Ready.IsCompleted)
        {
            await spans.Ready; // only the first requests of a sidecar that has just started
        }

        using var request = supervisor.BeginRequest();
        using var overlap = _overlap.Begin();
        var warmUp = _warmUps.Admit(http.Request.Headers);
        using var span = StartSpan(http, received, warmUp);

        FunctionInstance instance;
        try
        {
            instance = await supervisor.ReadyInstanceAsync(received, http.RequestAborted);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            await FailAsync(http, span, StatusCodes.Status503ServiceUnavailable, "function not ready: " + e.Message);
            snapshots.Capture(Failure(http, span, received, FailureTrigger.NotReady, supervisor.Current, null, null) with { Error = e.Message });
            return;
        }

        var cold = instance.TryClaimColdStart();
        span?.SetTag(FaasConventions.FaasColdStart, cold);
        if (warmUp)
        {
            // A scheduler learns from the answer whether its ping came in time.
            http.Response.Headers[WarmUpGate.ColdHeader] = cold ? "true" : "false";
        }

        var (requestBody, responseBody) = WrapBodies(http);
        var forwarded = time.GetTimestamp();
        var error = await forwarder.SendAsync(http, _upstream, _client, _requestConfig, ForwardingTransformer.Instance);
        metrics.UpstreamDuration.Observe(time.GetElapsedTime(forwarded).TotalSeconds);
        string? trigger = null, detail = null;
        if (error != ForwarderError.None)
        {
            var exception = http.Features.Get<IForwarderErrorFeature>()?.Exception;
            detail = $"{error}: {exception?.Message ?? error.ToString()}";
            span?.SetStatus(ActivityStatusCode.Error, detail);
            trigger = FailureTriggerOf(error, exception);
            if (!http.Response.HasStarted)
            {
                http.Response.StatusCode = error == ForwarderError.RequestTimedOut ? StatusCodes.Status504GatewayTimeout : http.Response.StatusCode;
            }
        }

        var code = http.Response.StatusCode;
        metrics.RequestsWithStatus(code).Inc();
        span?.SetTag(FaasConventions.HttpResponseStatusCode, code);
        if (code >= 500)
        {
            span?.SetStatus(ActivityStatusCode.Error);
            trigger ??= FailureTrigger.ServerError;
        }

        GrpcStatus? grpc = null;
        if (GrpcStatus.IsGrpc(http.Request))
        {
            grpc = GrpcStatus.Read(http);
            if (span is not null)
            {
                GrpcStatus.Tag(span, http.Request.Path.Value ?? "/", grpc);
            }

            trigger ??= grpc is { IsServerFault: true } ? FailureTrigger.GrpcError : null;
        }

        if (trigger is not null)
        {
            var failure = Failure(http, span, received, trigger, instance, requestBody, responseBody) with
            {
                Error = detail,
                RequestEnded = time.GetUtcNow().UtcDateTime,
                OtherRequests = overlap.Others,
                GrpcStatus = grpc?.Code,
                GrpcMessage = grpc?.Message,
            };
            if (trigger is FailureTrigger.Refused or FailureTrigger.Reset)
            {
                _ = ReportConnectionFailureAsync(failure, instance);
            }
            else
            {
                snapshots.Capture(failure);
            }
        }

        if (span is not null && cold)
        {
            _ = coldStarts.RecordAsync(instance, await instance.Listening, received, time.GetUtcNow().UtcDateTime, span.Context);
        }
    }

    /// <summary>
    /// Coalesces the response's writes (see <see cref="CoalescedResponseBody"/>) and tees both bodies so a
    /// failure snapshot can show their first bytes.
    /// </summary>
    private (CapturingStream? Request, CapturingStream? Response) WrapBodies(HttpContext http)
    {
        // An upgraded connection (WebSocket) is a tunnel, not a body: leave it alone.
        if (http.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true)
        {
            return (null, null);
        }

        var body = new CoalescedResponseBody(http.Response.BodyWriter);
        http.Features.Set(body);
        if (_options.SnapshotBodyBytes == 0)
        {
            http.Response.Body = body;
            return (null, null);
        }

        var request = new CapturingStream(http.Request.Body, _options.SnapshotBodyBytes);
        var response = new CapturingStream(body, _options.SnapshotBodyBytes);
        http.Request.Body = request;
        http.Response.Body = response;
        return (request, response);
    }

    /// <summary>Which failure a forwarding error is; null when the client went away (not the function's failure).</summary>
    private static string? FailureTriggerOf(ForwarderError error, Exception? exception) => error switch
    {
        ForwarderError.RequestTimedOut => FailureTrigger.Timeout,
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
            or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient or ForwarderError.UpgradeRequestCanceled => null,
        _ => FindSocketError(exception) == SocketError.ConnectionRefused ? FailureTrigger.Refused : FailureTrigger.Reset,
    };

    /// <summary>
    /// A refused or cut connection is a crash when the process died with it. Telling them apart waits for the
    /// exit briefly, so it happens here, after the response, not before it.
    /// </summary>
    private async Task ReportConnectionFailureAsync(FailureContext failure, FunctionInstance instance)
    {
        try
        {
            var exitCode = await instance.Exited.WaitAsync(CrashGrace, time);
            if (instance.TryClaimCrashReport())
            {
                snapshots.Capture(failure with { Trigger = FailureTrigger.Crash, ExitCode = exitCode });
            }
        }
        catch (TimeoutException)
        {
            snapshots.Capture(failure);
        }
    }

    private static SocketError? FindSocketError(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode;
            }
        }

        return null;
    }

    private static FailureContext Failure(HttpContext http, Activity? span, DateTime received, string trigger, FunctionInstance? instance, CapturingStream? requestBody, CapturingStream? responseBody) => new()
    {
        Trigger = trigger,
        Time = received,
        RequestReceived = received,
        Instance = instance,
        Span = span?.Context ?? default,
        Method = http.Request.Method,
        Url = http.Request.GetEncodedPathAndQuery(),
        Protocol = http.Request.Protocol,
        Request = Message(http.Request.Headers, requestBody, http.Request.ContentType),
        Status = http.Response.StatusCode,
        Response = Message(http.Response.Headers, responseBody, http.Response.ContentType),
    };

    private static CapturedMessage Message(IHeaderDictionary headers, CapturingStream? body, string? contentType) => new(
        [.. headers.SelectMany(h => h.Value.Select(v => KeyValuePair.Create(h.Key, v ?? string.Empty)))],
        body?.Head.ToArray() ?? [],
        body?.TotalBytes ?? 0,
        contentType);

    public void Dispose() => _client.Dispose();

    private Activity? StartSpan(HttpContext http, DateTime received, bool warmUp)
    {
        var headers = http.Request.Headers;
        ActivityContext.TryParse(headers.TraceParent, headers.TraceState, isRemote: true, out var parent);
        var path = http.Request.Path.Value ?? "/";
        // Named by route, never by raw path, so that ids in URLs do not make a new operation each.
        var route = _routes.Match(path);
        var span = SidecarTracing.Source.StartActivity(route?.SpanName(http.Request.Method) ?? http.Request.Method, ActivityKind.Server, parent, startTime: received);
        if (span is null)
        {
            return null;
        }

        span.SetTag(FaasConventions.FaasTrigger, "http");
        span.SetTag(FaasConventions.FaasInvocationId, span.SpanId.ToHexString());
        span.SetTag(FaasConventions.HttpRequestMethod, http.Request.Method);
        span.SetTag(FaasConventions.UrlPath, path);
        if (route is not null)
        {
            span.SetTag(FaasConventions.HttpRoute, route.Template);
        }

        if (http.Request.QueryString.Value is { Length: > 1 } query)
        {
            span.SetTag("url.query", QueryStrings.Redact(query[1..])); // without the '?', as the HTTP conventions write it
        }

        span.SetTag("url.scheme", http.Request.Scheme);
        span.SetTag("server.port", http.Connection.LocalPort);
        span.SetTag("network.protocol.version", ProtocolVersion(http.Request.Protocol));
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

    // The protocol strings are interned constants: compare, do not allocate.
    private static string ProtocolVersion(string protocol) =>
        HttpProtocol.IsHttp11(protocol) ? "1.1" : HttpProtocol.IsHttp2(protocol) ? "2" : HttpProtocol.IsHttp3(protocol) ? "3" : HttpProtocol.IsHttp10(protocol) ? "1.0" : protocol;

    private async Task FailAsync(HttpContext http, Activity? span, int status, string message)
    {
        span?.SetStatus(ActivityStatusCode.Error, message);
        span?.SetTag(FaasConventions.HttpResponseStatusCode, status);
        metrics.RequestsWithStatus(status).Inc();
        http.Response.StatusCode = status;
        await http.Response.WriteAsync(message);
    }
}
