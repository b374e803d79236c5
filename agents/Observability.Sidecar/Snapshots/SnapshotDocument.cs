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
    // Content types whose bodies are text the redactor reads; any other declared type is binary.
    private static readonly string[] TextualTypes = ["text/", "json", "xml", "x-www-form-urlencoded", "javascript", "yaml", "csv", "graphql", "multipart/form-data", "html"];

    /// <param name="message">The captured headers and first bytes of the body.</param>
    /// <param name="redactor">Masks secrets in header values and the body.</param>
    /// <param name="keepUnreadableBodies">
    /// Keep bodies the redactor cannot read (compressed, binary, not UTF-8) as base64, unredacted. Off by default:
    /// the snapshot then says why the body was left out, and keeps its size.
    /// </param>
    public static JsonObject Message(CapturedMessage message, Redactor redactor, bool keepUnreadableBodies = false)
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
            var truncated = message.BodyBytes > message.BodyHead.Length;
            var unreadable = Unreadable(message);
            var text = unreadable is null ? Utf8Text(message.BodyHead) : null;
            if (text is not null)
            {
                result["body"] = redactor.Body(message.BodyHead, text, message.ContentType, truncated);
            }
            else if (keepUnreadableBodies)
            {
                result["body"] = $"base64({message.ContentType ?? "binary"}):" + Convert.ToBase64String(message.BodyHead);
                result["bodyNotRedacted"] = unreadable ?? "not UTF-8 text";
            }
            else
            {
                result["bodyOmitted"] = unreadable ?? "not UTF-8 text";
            }

            result["bodyTruncated"] = truncated;
        }

        return result;
    }

    /// <summary>Why the redactor cannot read a body (compressed, a binary type), or null when it may be text.</summary>
    public static string? Unreadable(CapturedMessage message)
    {
        foreach (var (name, value) in message.Headers)
        {
            if (name.Equals("Content-Encoding", StringComparison.OrdinalIgnoreCase) && !value.Trim().Equals("identity", StringComparison.OrdinalIgnoreCase))
            {
                return $"compressed ({value.Trim()})";
            }
        }

        return message.ContentType is { Length: > 0 } type && !IsTextType(type) ? $"binary ({type})" : null;
    }

    private static bool IsTextType(string contentType)
    {
        foreach (var part in TextualTypes)
        {
            if (contentType.Contains(part, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The bytes as UTF-8 text, or null when they are not (the cap may cut a character: up to three bytes of it are dropped).</summary>
    public static string? Utf8Text(byte[] head)
    {
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

        return null;
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
