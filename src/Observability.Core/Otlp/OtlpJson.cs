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
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            throw new OtlpFormatException("the JSON body is not valid UTF-8");
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(ReplaceLoneSurrogateEscapes(utf8Json), documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new OtlpFormatException($"malformed JSON: {e.Message}", e);
        }

        if (root is not JsonObject)
        {
            throw new OtlpFormatException("the JSON body must be an object");
        }

        try
        {
            RewriteIds(root);
            return Parser.Parse<T>(root.ToJsonString());
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OtlpFormatException($"invalid OTLP JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidJsonException or InvalidOperationException or FormatException)
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
                    else if (ExactInteger(value) is { } text)
                    {
                        obj[name] = text;
                    }
                    else
                    {
                        RewriteIds(value);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is { } item)
                    {
                        if (ExactInteger(item) is { } text)
                        {
                            array[i] = text;
                        }
                        else
                        {
                            RewriteIds(item);
                        }
                    }
                }

                break;
            default:
                break;
        }
    }

    // Protobuf's JSON parser reads numbers through double, which rounds integers past 2^53 (nanosecond
    // timestamps are ~2^60). As strings it reads them exactly; OTLP allows either form.
    private static string? ExactInteger(JsonNode node)
    {
        if (node.GetValueKind() != JsonValueKind.Number)
        {
            return null;
        }

        var text = node.ToJsonString();
        return text.Length > 15 && !text.AsSpan().ContainsAny('.', 'e', 'E') ? text : null;
    }

    // "\uD800" without its pair is valid JSON grammar but not Unicode; .NET refuses to carry it into a
    // string. Such escapes become U+FFFD (same length, so a copy edited in place), as other bad text does.
    private static ReadOnlySpan<byte> ReplaceLoneSurrogateEscapes(ReadOnlySpan<byte> json)
    {
        byte[]? copy = null;
        for (var i = json.IndexOf((byte)'\\'); i >= 0 && i + 5 < json.Length; i++)
        {
            if (json[i] != '\\')
            {
                continue;
            }

            if (json[i + 1] != 'u' || !TryHex4(json.Slice(i + 2, 4), out var c))
            {
                i++; // an escaped character (possibly a backslash): skip it
                continue;
            }

            var paired = c is >= 0xD800 and <= 0xDBFF && i + 11 < json.Length && json[i + 6] == '\\' && json[i + 7] == 'u'
                && TryHex4(json.Slice(i + 8, 4), out var low) && low is >= 0xDC00 and <= 0xDFFF;
            if (paired)
            {
                i += 11;
                continue;
            }

            if (c is >= 0xD800 and <= 0xDFFF)
            {
                copy ??= json.ToArray();
                "FFFD"u8.CopyTo(copy.AsSpan(i + 2));
            }

            i += 5;
        }

        return copy ?? json;
    }

    private static bool TryHex4(ReadOnlySpan<byte> hex, out int value) =>
        int.TryParse(hex, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out value);

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
