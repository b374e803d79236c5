using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// JSON members under secret-looking names, at any depth; an object or array under such a name goes whole. Two
/// paths: in a body that parses, the reader finds the values to mask and every string value and name also goes
/// through the text rules, masked in place; anything else (a body cut at the capture cap, JSON inside a log
/// line) is scanned as text.
/// </summary>
public static class JsonSecrets
{
    /// <summary>
    /// The document with secrets masked and everything else as it was sent (spacing and order kept); null when
    /// the bytes are not one complete JSON value.
    /// </summary>
    public static string? RedactParsed(ReadOnlySpan<byte> json, Func<string, string> text)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var output = new ArrayBufferWriter<byte>(json.Length + 64);
        var copied = 0;
        try
        {
            var any = false;
            while (reader.Read())
            {
                any = true;
                if (reader.TokenType is not (JsonTokenType.PropertyName or JsonTokenType.String))
                {
                    continue;
                }

                // Where the token is in the input: its quotes around the raw (still escaped) bytes.
                var start = (int)reader.TokenStartIndex;
                var end = start + reader.ValueSpan.Length + 2;
                var value = reader.GetString()!;
                if (reader.TokenType == JsonTokenType.PropertyName && SecretNames.IsSecret(value))
                {
                    Splice(json, ref copied, start, end, text(value), output);
                    reader.Read();
                    var valueStart = (int)reader.TokenStartIndex;
                    reader.Skip(); // a whole object or array; nothing for a single value
                    Splice(json, ref copied, valueStart, (int)reader.BytesConsumed, Redactor.Mask, output);
                    continue;
                }

                if (text(value) is var redacted && !string.Equals(redacted, value, StringComparison.Ordinal))
                {
                    Splice(json, ref copied, start, end, redacted, output);
                }
            }

            if (!any)
            {
                return null;
            }

            output.Write(json[copied..]);
            return Encoding.UTF8.GetString(output.WrittenSpan);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Cut at the cap, not JSON after all, or invalid UTF-8 in a string: the text path takes it.
            return null;
        }
    }

    // Copies the input up to `start`, then `replacement` as a JSON string in place of the input up to `end`.
    private static void Splice(ReadOnlySpan<byte> json, ref int copied, int start, int end, string replacement, ArrayBufferWriter<byte> output)
    {
        output.Write(json[copied..start]);
        output.Write("\""u8);
        // Keep the text readable: no \u escapes for non-ASCII characters, quotes or angle brackets.
        output.Write(Encoding.UTF8.GetBytes(JsonEncodedText.Encode(replacement, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value));
        output.Write("\""u8);
        copied = end;
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
