namespace Observability.Core.Model;

/// <summary>One OTLP log record as it is stored.</summary>
public sealed class LogRow
{
    /// <summary>Content hash of the record and its resource, so that a retried export is stored once.</summary>
    public required byte[] LogId { get; init; }
    public DateTime Time { get; init; }
    public DateTime ObservedTime { get; init; }
    public byte[]? TraceId { get; init; }
    public byte[]? SpanId { get; init; }
    public short SeverityNumber { get; init; }
    public string? SeverityText { get; init; }
    public string? EventName { get; init; }
    public required string ServiceName { get; init; }
    public string? FunctionName { get; init; }
    public string? FunctionVersion { get; init; }
    public string? FaasInstance { get; init; }
    public string? ScopeName { get; init; }
    /// <summary>The body as JSON (a string body becomes a JSON string).</summary>
    public required string Body { get; init; }
    public required string Attributes { get; init; }
    public required string Resource { get; init; }
}
