using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;

namespace Observability.Core.Otlp;

/// <summary>
/// Reads the OTLP JSON encoding. It is proto3 JSON with one difference: trace and span ids are hex
/// (case-insensitive) instead of base64. Ids are rewritten to base64, then protobuf's own JSON parser
/// reads the message (it already takes 64-bit integers as strings or numbers, enums as integers, and
/// both lowerCamelCase and original field names).
/// </summary>
public static class OtlpJson
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private static readonly HashSet<string> IdFields = new(StringComparer.Ordinal)
    {
        "traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id",
    };

    /// <exception cref="OtlpFormatException">The body is not valid OTLP JSON.</exception>
    public static T Parse<T>(ReadOnlySpan<byte> utf8Json)
        where T : IMessage<T>, new()
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(utf8Json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new OtlpFormatException($"malformed JSON: {e.Message}", e);
        }

        if (root is not JsonObject)
        {
            throw new OtlpFormatException("the JSON body must be an object");
        }

        RewriteIds(root);
        try
        {
            return Parser.Parse<T>(root.ToJsonString());
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OtlpFormatException($"invalid OTLP JSON: {e.Message}", e);
        }
        catch (InvalidJsonException e)
        {
            throw new OtlpFormatException($"invalid OTLP JSON: {e.Message}", e);
        }
    }

    public static string Format(IMessage message) => JsonFormatter.Default.Format(message);

    private static void RewriteIds(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (value is null)
                    {
                        continue;
                    }

                    if (IdFields.Contains(name) && value.GetValueKind() == JsonValueKind.String)
                    {
                        obj[name] = HexToBase64(name, value.GetValue<string>());
                    }
                    else
                    {
                        RewriteIds(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        RewriteIds(item);
                    }
                }

                break;
            default:
                break;
        }
    }

    private static string HexToBase64(string field, string hex)
    {
        try
        {
            return Convert.ToBase64String(Convert.FromHexString(hex));
        }
        catch (FormatException e)
        {
            throw new OtlpFormatException($"{field} is not hex: \"{Truncate(hex)}\"", e);
        }
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}

/// <summary>A request body that is not valid OTLP: answered with 400 / INVALID_ARGUMENT, never retried.</summary>
public sealed class OtlpFormatException : Exception
{
    public OtlpFormatException(string message)
        : base(message)
    {
    }

    public OtlpFormatException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public OtlpFormatException()
    {
    }
}
