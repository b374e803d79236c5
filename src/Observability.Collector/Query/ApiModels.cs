using System.Text.Json;
using Observability.Core.Model;

namespace Observability.Collector.Query;

public sealed record ApiStatus(string Code, string? Message);

public sealed record ApiFunction(string Name, string? Version, string? Instance, string? Trigger, string? InvocationId, bool? ColdStart);

public sealed record ApiSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    int Depth,
    string Name,
    string Kind,
    DateTime StartTime,
    string StartTimeUnixNano,
    long DurationNanos,
    ApiStatus Status,
    string Service,
    string? ScopeName,
    ApiFunction? Function,
    bool WarmUp,
    JsonElement Attributes,
    JsonElement Resource,
    JsonElement Events,
    JsonElement Links);

public sealed record ApiTrace(string TraceId, DateTime StartTime, long DurationNanos, int SpanCount, int ErrorCount, string[] Services, IReadOnlyList<ApiSpan> Spans);

public sealed record ApiTraceSummary(string TraceId, string RootService, string RootName, DateTime StartTime, long DurationNanos, int SpanCount, int ErrorCount, string[] Services);

/// <summary>A page of a list; <c>next</c> (always written, null on the last page) is the cursor of the page after it.</summary>
public sealed record ApiList<T>(IReadOnlyList<T> Items, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Next = null);

internal static class ApiMapping
{
    public static string KindName(short kind) => kind switch
    {
        SpanKinds.Internal => "internal",
        SpanKinds.Server => "server",
        SpanKinds.Client => "client",
        SpanKinds.Producer => "producer",
        SpanKinds.Consumer => "consumer",
        _ => "unspecified",
    };

    public static string StatusName(short code) => code switch
    {
        SpanStatus.Ok => "ok",
        SpanStatus.Error => "error",
        _ => "unset",
    };

    public static string Hex(byte[] id) => Convert.ToHexStringLower(id);

    public static long UnixNanos(DateTime utc) => (utc - DateTime.UnixEpoch).Ticks * 100;

    /// <summary>The spans in tree order (each parent before its children, siblings by start) with their depth.</summary>
    public static ApiTrace ToTrace(IReadOnlyList<StoredSpan> spans)
    {
        var ids = spans.Select(s => Hex(s.SpanId)).ToHashSet();
        var children = spans
            .Where(s => s.ParentSpanId is not null && ids.Contains(Hex(s.ParentSpanId)))
            .GroupBy(s => Hex(s.ParentSpanId!))
            .ToDictionary(g => g.Key, g => g.OrderBy(s => s.StartTime).ToList());
        var roots = spans.Where(s => s.ParentSpanId is null || !ids.Contains(Hex(s.ParentSpanId))).OrderBy(s => s.StartTime);
        var ordered = new List<ApiSpan>(spans.Count);
        var stack = new Stack<(StoredSpan Span, int Depth)>(roots.Reverse().Select(r => (r, 0)));
        var seen = new HashSet<string>();
        while (stack.Count > 0)
        {
            var (span, depth) = stack.Pop();
            var spanId = Hex(span.SpanId);
            if (!seen.Add(spanId))
            {
                continue;
            }

            ordered.Add(ToApi(span, depth));
            if (children.TryGetValue(spanId, out var kids))
            {
                for (var i = kids.Count - 1; i >= 0; i--)
                {
                    stack.Push((kids[i], depth + 1));
                }
            }
        }

        var start = spans.Min(s => s.StartTime);
        var end = spans.Max(s => UnixNanos(s.StartTime) + s.DurationNanos);
        return new ApiTrace(
            Hex(spans[0].TraceId),
            start,
            end - UnixNanos(start),
            spans.Count,
            spans.Count(s => s.StatusCode == SpanStatus.Error),
            spans.Select(s => s.ServiceName).Distinct().Order(StringComparer.Ordinal).ToArray(),
            ordered);
    }

    private static ApiSpan ToApi(StoredSpan s, int depth) => new(
        Hex(s.TraceId),
        Hex(s.SpanId),
        s.ParentSpanId is null ? null : Hex(s.ParentSpanId),
        depth,
        s.Name,
        KindName(s.Kind),
        s.StartTime,
        UnixNanos(s.StartTime).ToString(System.Globalization.CultureInfo.InvariantCulture),
        s.DurationNanos,
        new ApiStatus(StatusName(s.StatusCode), s.StatusMessage),
        s.ServiceName,
        s.ScopeName,
        s.FunctionName is null ? null : new ApiFunction(s.FunctionName, s.FunctionVersion, s.FaasInstance, s.FaasTrigger, s.FaasInvocationId, s.FaasColdStart),
        s.WarmUp,
        s.Attributes,
        s.Resource,
        s.Events,
        s.Links);
}
