using System.Buffers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Common.V1;

namespace Observability.Core.Otlp;

/// <summary>
/// Writes OTLP attributes and values as plain JSON (strings, numbers, booleans, arrays, objects),
/// the shape stored in jsonb and served by the query API. Bytes become base64 strings; doubles that
/// JSON cannot hold (NaN, infinities) become strings.
/// </summary>
public static class AttributeJson
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _threadBuffer;

    public static string Of(RepeatedField<KeyValue> attributes) =>
        attributes.Count == 0 ? "{}" : Write(attributes, static (w, a) => WriteObject(w, a));

    public static string OfValue(AnyValue? value) => Write(value, static (w, v) => WriteValue(w, v));

    public static string Write<T>(T state, Action<Utf8JsonWriter, T> write)
    {
        var buffer = _threadBuffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer, state);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void WriteObject(Utf8JsonWriter writer, RepeatedField<KeyValue> attributes)
    {
        writer.WriteStartObject();
        foreach (var kv in attributes)
        {
            writer.WritePropertyName(CleanText.Clean(kv.Key));
            WriteValue(writer, kv.Value);
        }

        writer.WriteEndObject();
    }

    public static void WriteValue(Utf8JsonWriter writer, AnyValue? value)
    {
        switch (value?.ValueCase ?? AnyValue.ValueOneofCase.None)
        {
            case AnyValue.ValueOneofCase.StringValue:
                writer.WriteStringValue(CleanText.Clean(value!.StringValue));
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                writer.WriteBooleanValue(value!.BoolValue);
                break;
            case AnyValue.ValueOneofCase.IntValue:
                writer.WriteNumberValue(value!.IntValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                if (double.IsFinite(value!.DoubleValue))
                {
                    writer.WriteNumberValue(value.DoubleValue);
                }
                else
                {
                    writer.WriteStringValue(value.DoubleValue.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                break;
            case AnyValue.ValueOneofCase.BytesValue:
                writer.WriteBase64StringValue(value!.BytesValue.Span);
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                writer.WriteStartArray();
                foreach (var item in value!.ArrayValue.Values)
                {
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                WriteObject(writer, value!.KvlistValue.Values);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>Hex of an id, lower case: the form ids take in JSON and in the query API.</summary>
    public static string Hex(ByteString id) => Convert.ToHexStringLower(id.Span);
}
