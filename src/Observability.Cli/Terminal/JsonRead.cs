using System.Text.Json;

namespace Observability.Cli.Terminal;

/// <summary>Reads the collector's JSON leniently: a missing or null field is null, so that an older or newer collector still prints.</summary>
internal static class JsonRead
{
    public static JsonElement? Get(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static string? Str(this JsonElement element, string name) => element.Get(name) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ToString()
        : null;

    public static double? Num(this JsonElement element, string name) =>
        element.Get(name) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;

    public static bool Bool(this JsonElement element, string name) => element.Get(name) is { ValueKind: JsonValueKind.True };

    public static DateTime? Time(this JsonElement element, string name) =>
        element.Get(name) is { ValueKind: JsonValueKind.String } v && v.TryGetDateTime(out var t) ? t.ToUniversalTime() : null;

    public static IEnumerable<JsonElement> Items(this JsonElement element, string name = "items") =>
        element.Get(name) is { ValueKind: JsonValueKind.Array } v ? v.EnumerateArray() : [];
}
