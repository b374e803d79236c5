using System.Buffers.Text;
using System.Text.Json;

namespace Observability.Collector.Query;

/// <summary>
/// The opaque <c>next</c> of a list: the sort key of the last item given, so the next page starts after it
/// (keyset paging: no offset to skip, stable while rows are added).
/// </summary>
internal static class PageCursor
{
    public static string Encode(params string[] key) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(key));

    /// <summary>The key of a cursor this API gave, with <paramref name="parts"/> parts; null when none was given.</summary>
    public static string[]? Decode(string? cursor, int parts)
    {
        if (string.IsNullOrWhiteSpace(cursor))
        {
            return null;
        }

        try
        {
            var key = JsonSerializer.Deserialize<string[]>(Base64Url.DecodeFromChars(cursor));
            if (key is not null && key.Length == parts && key.All(k => k is not null))
            {
                return key;
            }
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            // answered below
        }

        throw new QueryException($"cursor=\"{cursor}\" is not a cursor of this list: pass the \"next\" of the previous page unchanged");
    }
}
