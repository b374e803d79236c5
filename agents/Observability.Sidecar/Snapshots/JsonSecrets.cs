using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// JSON members under secret-looking names, at any depth; an object or array under such a name goes whole. Two
/// paths: a body that parses is rewritten token by token (every string value and name also through the text
/// rules); anything else (a body cut at the capture cap, JSON inside a log line) is scanned as text.
/// </summary>
public static class JsonSecrets
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Keep the text readable as it was sent: no \u escapes for non-ASCII characters, quotes or angle brackets.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    /// <summary>The document with secrets masked, compact; null when the bytes are not one complete JSON value.</summary>
    public static string? RedactParsed(ReadOnlySpan<byte> json, Func<string, string> text)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var output = new ArrayBufferWriter<byte>(json.Length + 64);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        try
        {
            var any = false;
            while (reader.Read())
            {
                any = true;
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        writer.WriteStartObject();
                        break;
                    case JsonTokenType.EndObject:
                        writer.WriteEndObject();
                        break;
                    case JsonTokenType.StartArray:
                        writer.WriteStartArray();
                        break;
                    case JsonTokenType.EndArray:
                        writer.WriteEndArray();
                        break;
                    case JsonTokenType.PropertyName:
                        var name = reader.GetString()!;
                        writer.WritePropertyName(text(name));
                        if (SecretNames.IsSecret(name))
                        {
                            reader.Read();
                            reader.Skip(); // a whole object or array; nothing for a single value
                            writer.WriteStringValue(Redactor.Mask);
                        }

                        break;
                    case JsonTokenType.String:
                        writer.WriteStringValue(text(reader.GetString()!));
                        break;
                    case JsonTokenType.Number:
                        writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                        break;
                    case JsonTokenType.True or JsonTokenType.False:
                        writer.WriteBooleanValue(reader.GetBoolean());
                        break;
                    case JsonTokenType.Null:
                        writer.WriteNullValue();
                        break;
                    default:
                        break;
                }
            }

            writer.Flush();
            return any ? Encoding.UTF8.GetString(output.WrittenSpan) : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Cut at the cap, not JSON after all, or invalid UTF-8 in a string: the text path takes it.
            return null;
        }
    }

    /// <summary>Members with a secret name anywhere in text, their value up to where it ends (or the text does).</summary>
    public static string RedactText(string text)
    {
        StringBuilder? redacted = null;
        var copied = 0;
        var at = 0;
        while (at < text.Length)
        {
            var open = text.IndexOf('"', at);
            if (open < 0)
            {
                break;
            }

            var close = StringEnd(text, open);
            if (close < 0)
            {
                at = open + 1; // not a name: resynchronise on the next quote
                continue;
            }

            at = close + 1;
            var colon = SkipWhitespace(text, close + 1);
            if (colon >= text.Length || text[colon] != ':')
            {
                continue; // a string value, skipped whole so its quotes cannot be taken for names
            }

            var valueStart = SkipWhitespace(text, colon + 1);
            if (valueStart >= text.Length || !SecretNames.IsSecret(Unescape(text.Substring(open + 1, close - open - 1))) || text.AsSpan(valueStart).StartsWith(MaskedString, StringComparison.Ordinal))
            {
                continue;
            }

            var valueEnd = ValueEnd(text, valueStart);
            redacted ??= new StringBuilder(text.Length);
            redacted.Append(text, copied, valueStart - copied).Append(MaskedString);
            copied = at = valueEnd;
        }

        return redacted is null ? text : redacted.Append(text, copied, text.Length - copied).ToString();
    }

    private const string MaskedString = "\"" + Redactor.Mask + "\"";

    // The closing quote of a string that may be a member name (one line, at most 200 characters), or -1.
    private static int StringEnd(string text, int open)
    {
        var limit = Math.Min(text.Length, open + 202);
        for (var i = open + 1; i < limit; i++)
        {
            switch (text[i])
            {
                case '\\':
                    i++;
                    break;
                case '"':
                    return i > open + 1 ? i : -1;
                case '\r' or '\n':
                    return -1;
                default:
                    break;
            }
        }

        return -1;
    }

    private static int SkipWhitespace(string text, int at)
    {
        while (at < text.Length && char.IsWhiteSpace(text[at]))
        {
            at++;
        }

        return at;
    }

    // Where the JSON value starting at `start` ends: a string to its closing quote, an object or array to its
    // matching bracket (strings inside skipped), anything else to the next delimiter; the end of the text at most.
    private static int ValueEnd(string text, int start)
    {
        var depth = 0;
        var inString = false;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                    if (depth == 0)
                    {
                        return i + 1;
                    }
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inString = true;
                    break;
                case '{' or '[':
                    depth++;
                    break;
                case '}' or ']':
                    if (depth == 0)
                    {
                        return i; // a bare value ending its container
                    }

                    if (--depth == 0)
                    {
                        return i + 1;
                    }

                    break;
                case ',' or '\r' or '\n' when depth == 0:
                    return i;
                default:
                    break;
            }
        }

        return text.Length;
    }

    private static string Unescape(string name)
    {
        if (!name.Contains('\\', StringComparison.Ordinal))
        {
            return name;
        }

        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes("\"" + name + "\""));
            reader.Read();
            return reader.GetString() ?? name;
        }
        catch (JsonException)
        {
            return name;
        }
    }
}
