using System.Net.Http.Json;
using System.Text.Json;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>What the sidecar tests read back from the collector's query API, waiting until it has arrived.</summary>
internal static class CollectorReads
{
    /// <summary>The spans of one service with one name, once the collector has enough of them.</summary>
    public static async Task<List<JsonElement>> SpansAsync(this CollectorRunner collector, string service, string name, Func<int, bool> enough)
    {
        var traces = await Poll.UntilAsync(
            async () => (await collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/traces?service={service}&name={Uri.EscapeDataString(name)}&limit=100")).GetProperty("items").EnumerateArray().ToList(),
            t => enough(t.Count),
            TimeSpan.FromSeconds(60),
            $"{name} spans of {service}");
        var spans = new List<JsonElement>();
        foreach (var t in traces)
        {
            var trace = await collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/traces/{t.GetProperty("traceId").GetString()}");
            spans.AddRange(trace.GetProperty("spans").EnumerateArray().Where(s => s.GetProperty("name").GetString() == name && s.GetProperty("service").GetString() == service));
        }

        return spans;
    }

    /// <summary>The failure snapshots of one function, once there are at least <paramref name="atLeast"/>.</summary>
    public static Task<List<JsonElement>> SnapshotsAsync(this CollectorRunner collector, string function, int atLeast) =>
        Poll.UntilAsync(
            async () => (await collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/snapshots?function={function}")).GetProperty("items").EnumerateArray().ToList(),
            s => s.Count >= atLeast,
            TimeSpan.FromSeconds(60),
            $"failure snapshots of {function}");

    public static async Task<JsonElement> TraceAsync(this CollectorRunner collector, string traceId) =>
        await collector.Query.GetFromJsonAsync<JsonElement>($"/api/v1/traces/{traceId}");
}
