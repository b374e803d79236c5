namespace Observability.Core.Model;

/// <summary>
/// One span as it is stored: ids, timing and status as columns, the FaaS attributes promoted to
/// columns so they can be indexed, everything else as JSON text (jsonb in the database).
/// </summary>
public sealed class SpanRow
{
    public required byte[] TraceId { get; init; }
    public required byte[] SpanId { get; init; }
    public byte[]? ParentSpanId { get; init; }
    public string? TraceState { get; init; }
    public required string Name { get; init; }
    public short Kind { get; init; }
    public DateTime StartTime { get; init; }
    /// <summary>Nanoseconds from start to end.</summary>
    public long DurationNanos { get; init; }
    public short StatusCode { get; init; }
    public string? StatusMessage { get; init; }
    public int Flags { get; init; }
    public required string ServiceName { get; init; }
    public string? ScopeName { get; init; }
    public string? ScopeVersion { get; init; }
    public string? FunctionName { get; init; }
    public string? FunctionVersion { get; init; }
    public string? FaasInstance { get; init; }
    public string? FaasTrigger { get; init; }
    public string? FaasInvocationId { get; init; }
    public bool? FaasColdStart { get; init; }
    public bool WarmUp { get; init; }
    public string? ColdStartPhase { get; init; }
    public int? HttpStatusCode { get; init; }
    /// <summary>
    /// How many spans this one stands for under sampling: the obs.sampling.adjusted_count attribute, else the
    /// tracestate's <c>ot</c> threshold (2^56 / (2^56 - th)), else 1.
    /// </summary>
    public double AdjustedCount { get; init; } = 1;
    /// <summary>Span attributes as a JSON object.</summary>
    public required string Attributes { get; init; }
    /// <summary>Resource attributes as a JSON object.</summary>
    public required string Resource { get; init; }
    /// <summary>Events as a JSON array of {name, timeUnixNano, attributes}.</summary>
    public required string Events { get; init; }
    /// <summary>Links as a JSON array of {traceId, spanId, traceState, attributes}.</summary>
    public required string Links { get; init; }

    public bool IsError => StatusCode == SpanStatus.Error;
}

/// <summary>OTLP span kinds and status codes, as stored (the OTLP enum numbers).</summary>
public static class SpanStatus
{
    public const short Unset = 0;
    public const short Ok = 1;
    public const short Error = 2;
}

public static class SpanKinds
{
    public const short Unspecified = 0;
    public const short Internal = 1;
    public const short Server = 2;
    public const short Client = 3;
    public const short Producer = 4;
    public const short Consumer = 5;
}
