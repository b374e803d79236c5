namespace Observability.Otlp.Semantics;

/// <summary>Attribute names of the OpenTelemetry semantic conventions this suite reads and writes.</summary>
public static class FaasConventions
{
    public const string ServiceName = "service.name";
    public const string FaasName = "faas.name";
    public const string FaasVersion = "faas.version";
    public const string FaasInstance = "faas.instance";
    public const string FaasMaxMemory = "faas.max_memory";
    public const string FaasTrigger = "faas.trigger";
    public const string FaasInvocationId = "faas.invocation_id";
    public const string FaasColdStart = "faas.coldstart";
    public const string HttpResponseStatusCode = "http.response.status_code";
    public const string HttpRequestMethod = "http.request.method";
    public const string UrlPath = "url.path";
    public const string HttpRoute = "http.route";
    public const string ExceptionType = "exception.type";
    public const string ExceptionMessage = "exception.message";
    public const string ExceptionStackTrace = "exception.stacktrace";
}

/// <summary>Attributes in the suite's own namespace (<c>obs.</c>), for what the conventions do not name.</summary>
public static class ObsConventions
{
    /// <summary>Boolean span attribute: the invocation was a warm-up ping, left out of invocation and error counts and SLOs.</summary>
    public const string WarmUp = "obs.warmup";

    /// <summary>
    /// String resource attribute: where the warm-up scheduler sends this function's pings (its sidecar's URL).
    /// Exported only by a sidecar that has a warm-up token, so that only functions that can be pinged are found.
    /// </summary>
    public const string WarmUpUrl = "obs.warmup.url";

    /// <summary>String span attribute on the spans of a cold-start record: which phase the span times.</summary>
    public const string ColdStartPhase = "obs.coldstart.phase";

    /// <summary>The cold-start phase that spans process start to the app listening; its duration is the init duration.</summary>
    public const string InitPhase = "init";

    /// <summary>
    /// Double span attribute: how many spans this one stands for, where the tracestate's <c>th</c> cannot say it
    /// (a span kept because it failed or paid a cold start was exported with probability 1, so it stands for 1
    /// whatever its trace's threshold). Read before <c>th</c> by the collector.
    /// </summary>
    public const string SamplingAdjustedCount = "obs.sampling.adjusted_count";

    /// <summary>String span attribute: why a span the head decision left out was exported anyway ("error", "coldstart").</summary>
    public const string SamplingKept = "obs.sampling.kept";

    /// <summary>Event name of the OTLP log record that carries a failure snapshot.</summary>
    public const string FailureSnapshotEvent = "obs.failure_snapshot";

    /// <summary>String attribute of a failure snapshot: what triggered it (status_5xx, timeout, crash, ...).</summary>
    public const string SnapshotTrigger = "obs.snapshot.trigger";
}
