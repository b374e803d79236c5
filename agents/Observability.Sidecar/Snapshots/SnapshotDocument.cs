using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using OpenTelemetry.Proto.Common.V1;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Writes a failure snapshot as a JSON document (the OTLP log record's body, as a structured value), with
/// every captured text passed through the redactor first. Pure: everything it shows is given to it.
/// </summary>
public static class SnapshotDocument
{
    public static JsonObject Message(CapturedMessage message, Redactor redactor)
    {
        var headers = new JsonObject();
        foreach (var (name, value) in message.Headers)
        {
            var redacted = redactor.Header(name, value);
            headers[name] = headers[name] is JsonValue previous ? $"{previous.GetValue<string>()}, {redacted}" : redacted;
        }

        var result = new JsonObject { ["headers"] = headers, ["bodyBytes"] = message.BodyBytes };
        if (message.BodyHead.Length > 0)
        {
            result["body"] = redactor.Text(BodyText(message.BodyHead, message.ContentType));
            result["bodyTruncated"] = message.BodyBytes > message.BodyHead.Length;
        }

        return result;
    }

    /// <summary>UTF-8 text as is; anything else (images, protobuf) as base64, so the snapshot stays valid JSON.</summary>
    public static string BodyText(byte[] head, string? contentType)
    {
        // The cap may cut a multi-byte character: allow up to three bytes of it to be dropped.
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        for (var cut = 0; cut <= 3 && cut < head.Length; cut++)
        {
            try
            {
                return strict.GetString(head, 0, head.Length - cut);
            }
            catch (DecoderFallbackException)
            {
                // Try a shorter cut.
            }
        }

        return $"base64({contentType ?? "binary"}):" + Convert.ToBase64String(head);
    }

    /// <summary>A JSON value as an OTLP AnyValue: objects become kvlists, arrays arrays, numbers int or double.</summary>
    public static AnyValue ToAnyValue(JsonNode? node) => node switch
    {
        null => new AnyValue(),
        JsonObject o => new AnyValue { KvlistValue = ToKeyValueList(o) },
        JsonArray a => new AnyValue { ArrayValue = new ArrayValue { Values = { a.Select(ToAnyValue) } } },
        JsonValue v when v.TryGetValue<bool>(out var b) => new AnyValue { BoolValue = b },
        JsonValue v when v.TryGetValue<string>(out var s) => new AnyValue { StringValue = s },
        JsonValue v when v.TryGetValue<long>(out var l) => new AnyValue { IntValue = l },
        JsonValue v when v.TryGetValue<int>(out var i) => new AnyValue { IntValue = i },
        JsonValue v when v.TryGetValue<double>(out var d) => new AnyValue { DoubleValue = d },
        JsonValue v => new AnyValue { StringValue = v.ToJsonString() },
        _ => new AnyValue { StringValue = node.ToJsonString() },
    };

    private static KeyValueList ToKeyValueList(JsonObject o)
    {
        var list = new KeyValueList();
        foreach (var (key, value) in o)
        {
            list.Values.Add(new KeyValue { Key = key, Value = ToAnyValue(value) });
        }

        return list;
    }

    /// <summary>A trace id as the bytes OTLP carries.</summary>
    public static ByteString IdBytes(ActivityTraceId id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.CopyTo(bytes);
        return ByteString.CopyFrom(bytes);
    }

    /// <summary>A span id as the bytes OTLP carries.</summary>
    public static ByteString IdBytes(ActivitySpanId id)
    {
        Span<byte> bytes = stackalloc byte[8];
        id.CopyTo(bytes);
        return ByteString.CopyFrom(bytes);
    }
}
