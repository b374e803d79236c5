using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Observability.Collector.Configuration;
using Observability.Core.Model;

namespace Observability.Collector.Query;

/// <summary>
/// Jaeger's query API (the JSON the Jaeger UI and Grafana's Jaeger data source read) under /jaeger/api,
/// so Grafana pointed at http://HOST:8080/jaeger browses this store.
/// </summary>
internal static class JaegerEndpoints
{
    public static RouteGroupBuilder MapJaegerApi(this IEndpointRouteBuilder app, TimeProvider time)
    {
        var api = app.MapGroup("/jaeger/api");
        var limits = QueryLimits.From(app.ServiceProvider.GetRequiredService<IOptions<CollectorOptions>>().Value);

        api.MapGet("/services", async (TraceStore store, CancellationToken ct) =>
        {
            var services = (await store.ServicesAsync(ct)).Select(s => s.Name).ToList();
            return Results.Ok(new JaegerResponse<string>(services, services.Count));
        });

        api.MapGet("/services/{service}/operations", async (string service, TraceStore store, CancellationToken ct) =>
        {
            var names = (await store.OperationsAsync(service, ct)).Select(o => o.Name).Distinct().ToList();
            return Results.Ok(new JaegerResponse<string>(names, names.Count));
        });

        api.MapGet("/operations", async (string service, string? spanKind, TraceStore store, CancellationToken ct) =>
        {
            var ops = (await store.OperationsAsync(service, ct))
                .Select(o => new JaegerOperation(o.Name, ApiMapping.KindName(o.Kind)))
                .Where(o => string.IsNullOrEmpty(spanKind) || o.SpanKind == spanKind)
                .ToList();
            return Results.Ok(new JaegerResponse<JaegerOperation>(ops, ops.Count));
        });

        api.MapGet("/traces/{traceId}", async (string traceId, TraceStore store, CancellationToken ct) =>
        {
            var spans = await store.GetTraceAsync(QueryParsing.TraceId(traceId), ct);
            return spans.Count == 0
                ? Results.Json(new JaegerResponse<JaegerTrace>([], 0, [new JaegerError(404, "trace not found")]), statusCode: 404)
                : Results.Ok(new JaegerResponse<JaegerTrace>([ToJaeger(spans)], 1));
        });

        api.MapGet("/traces", async (HttpRequest request, TraceStore store, CancellationToken ct) =>
        {
            var q = request.Query;
            var service = ApiEndpoints.NullIfEmpty(q["service"]) ?? throw new QueryException("service is required");
            var givenStart = QueryParsing.Time(q["start"], "start");
            // Jaeger's UI sends lookback beside start and end ("custom" for a picked range): start wins.
            var lookback = givenStart is null && QueryParsing.DurationNanos(q["lookback"], "lookback") is { } nanos
                ? TimeSpan.FromTicks(Math.Max(nanos, 0) / 100)
                : TimeSpan.FromHours(1);
            var (start, end) = QueryParsing.TimeRange(givenStart, QueryParsing.Time(q["end"], "end"), lookback, time.GetUtcNow().UtcDateTime, limits);
            var tags = ParseTags(q["tags"]);
            var errorsOnly = tags.Remove("error", out var error) && string.Equals(error, "true", StringComparison.OrdinalIgnoreCase);
            var operation = ApiEndpoints.NullIfEmpty(q["operation"]);
            var query = new TraceQuery
            {
                Start = start,
                End = end,
                Service = service,
                SpanName = operation == "all" ? null : operation,
                MinDurationNanos = QueryParsing.DurationNanos(q["minDuration"], "minDuration"),
                MaxDurationNanos = QueryParsing.DurationNanos(q["maxDuration"], "maxDuration"),
                ErrorsOnly = errorsOnly,
                Attributes = tags,
                Limit = QueryParsing.Limit(q["limit"], limits),
            };
            var ids = await store.FindTraceIdsAsync(query, ct);
            var spans = ids.Length == 0 ? [] : await store.GetTracesAsync(ids, ct);
            var traces = spans.GroupBy(s => ApiMapping.Hex(s.TraceId)).Select(g => ToJaeger(g.ToList())).ToList();
            return Results.Ok(new JaegerResponse<JaegerTrace>(traces, traces.Count));
        });

        return api;
    }

    private const string TagsForm = "tags={\"http.response.status_code\":\"500\"}, a JSON object of strings";

    private static Dictionary<string, string> ParseTags(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        var tags = new List<KeyValuePair<string, string?[]>>();
        try
        {
            using var doc = JsonDocument.Parse(json);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                // Numbers and booleans are matched as the stored value or its text; an object or array has no single value to match.
                var value = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString()!,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.Value.GetRawText(),
                    _ => throw new QueryException($"tag \"{p.Name}\" has a {p.Value.ValueKind.ToString().ToLowerInvariant()} value: use {TagsForm}"),
                };
                tags.Add(KeyValuePair.Create(p.Name, new string?[] { value }));
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new QueryException("tags must be a JSON object of strings, e.g. {\"http.response.status_code\":\"500\"}");
        }

        return QueryParsing.Attributes(tags, TagsForm);
    }

    internal static JaegerTrace ToJaeger(IReadOnlyList<StoredSpan> spans)
    {
        var processes = new Dictionary<string, JaegerProcess>();
        var processIds = new Dictionary<string, string>();
        var result = new List<JaegerSpan>(spans.Count);
        foreach (var s in spans)
        {
            if (!processIds.TryGetValue(s.ServiceName, out var pid))
            {
                pid = "p" + (processIds.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                processIds[s.ServiceName] = pid;
                processes[pid] = new JaegerProcess(s.ServiceName, Tags(s.Resource).Where(t => t.Key != "service.name").ToList());
            }

            var traceId = ApiMapping.Hex(s.TraceId);
            var references = new List<JaegerReference>();
            if (s.ParentSpanId is not null)
            {
                references.Add(new JaegerReference("CHILD_OF", traceId, ApiMapping.Hex(s.ParentSpanId)));
            }

            foreach (var link in s.Links.EnumerateArray())
            {
                references.Add(new JaegerReference("FOLLOWS_FROM", link.GetProperty("traceId").GetString()!, link.GetProperty("spanId").GetString()!));
            }

            var tags = Tags(s.Attributes);
            tags.Add(new JaegerTag("span.kind", "string", ApiMapping.KindName(s.Kind)));
            if (s.StatusCode == SpanStatus.Error)
            {
                tags.Add(new JaegerTag("error", "bool", true));
                tags.Add(new JaegerTag("otel.status_code", "string", "ERROR"));
            }
            else if (s.StatusCode == SpanStatus.Ok)
            {
                tags.Add(new JaegerTag("otel.status_code", "string", "OK"));
            }

            if (s.StatusMessage is not null)
            {
                tags.Add(new JaegerTag("otel.status_description", "string", s.StatusMessage));
            }

            if (s.ScopeName is not null)
            {
                tags.Add(new JaegerTag("otel.scope.name", "string", s.ScopeName));
            }

            var logs = s.Events.EnumerateArray().Select(e =>
            {
                var fields = new List<JaegerTag> { new("event", "string", e.GetProperty("name").GetString()!) };
                fields.AddRange(Tags(e.GetProperty("attributes")));
                return new JaegerLog(e.GetProperty("timeUnixNano").GetInt64() / 1000, fields);
            }).ToList();

            result.Add(new JaegerSpan(
                traceId,
                ApiMapping.Hex(s.SpanId),
                s.Name,
                references,
                ApiMapping.UnixNanos(s.StartTime) / 1000,
                s.DurationNanos / 1000,
                tags,
                logs,
                pid,
                null,
                1));
        }

        return new JaegerTrace(ApiMapping.Hex(spans[0].TraceId), result, processes, null);
    }

    private static List<JaegerTag> Tags(JsonElement attributes) =>
        attributes.EnumerateObject().Select(p => p.Value.ValueKind switch
        {
            JsonValueKind.String => new JaegerTag(p.Name, "string", p.Value.GetString()!),
            JsonValueKind.True or JsonValueKind.False => new JaegerTag(p.Name, "bool", p.Value.GetBoolean()),
            JsonValueKind.Number when p.Value.TryGetInt64(out var i) => new JaegerTag(p.Name, "int64", i),
            JsonValueKind.Number => new JaegerTag(p.Name, "float64", p.Value.GetDouble()),
            _ => new JaegerTag(p.Name, "string", p.Value.GetRawText()),
        }).ToList();
}

internal sealed record JaegerResponse<T>(
    [property: JsonPropertyName("data")] IReadOnlyList<T> Data,
    [property: JsonPropertyName("total")] int Total,
    [property: JsonPropertyName("errors")] IReadOnlyList<JaegerError>? Errors = null,
    [property: JsonPropertyName("limit")] int Limit = 0,
    [property: JsonPropertyName("offset")] int Offset = 0);

internal sealed record JaegerError([property: JsonPropertyName("code")] int Code, [property: JsonPropertyName("msg")] string Msg);

internal sealed record JaegerOperation([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("spanKind")] string SpanKind);

internal sealed record JaegerTrace(
    [property: JsonPropertyName("traceID")] string TraceId,
    [property: JsonPropertyName("spans")] IReadOnlyList<JaegerSpan> Spans,
    [property: JsonPropertyName("processes")] IReadOnlyDictionary<string, JaegerProcess> Processes,
    [property: JsonPropertyName("warnings")] IReadOnlyList<string>? Warnings);

internal sealed record JaegerSpan(
    [property: JsonPropertyName("traceID")] string TraceId,
    [property: JsonPropertyName("spanID")] string SpanId,
    [property: JsonPropertyName("operationName")] string OperationName,
    [property: JsonPropertyName("references")] IReadOnlyList<JaegerReference> References,
    [property: JsonPropertyName("startTime")] long StartTime,
    [property: JsonPropertyName("duration")] long Duration,
    [property: JsonPropertyName("tags")] IReadOnlyList<JaegerTag> Tags,
    [property: JsonPropertyName("logs")] IReadOnlyList<JaegerLog> Logs,
    [property: JsonPropertyName("processID")] string ProcessId,
    [property: JsonPropertyName("warnings")] IReadOnlyList<string>? Warnings,
    [property: JsonPropertyName("flags")] int Flags);

internal sealed record JaegerReference(
    [property: JsonPropertyName("refType")] string RefType,
    [property: JsonPropertyName("traceID")] string TraceId,
    [property: JsonPropertyName("spanID")] string SpanId);

internal sealed record JaegerTag(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("value")] object Value);

internal sealed record JaegerLog([property: JsonPropertyName("timestamp")] long Timestamp, [property: JsonPropertyName("fields")] IReadOnlyList<JaegerTag> Fields);

internal sealed record JaegerProcess([property: JsonPropertyName("serviceName")] string ServiceName, [property: JsonPropertyName("tags")] IReadOnlyList<JaegerTag> Tags);
