using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Observability.Collector.Analysis;

/// <summary>An assembly or method and what it cost over the cold starts whose top list it was in.</summary>
public sealed record ProfileItem(string Name, int ColdStarts, double TotalMs, double MeanMs);

/// <summary>The startup profiles of a function version's cold starts, added up.</summary>
/// <param name="Records">Cold-start records read.</param>
/// <param name="Profiled">Of those, the ones with a profile (.NET functions whose runtime events the sidecar read).</param>
/// <param name="AssembliesLoaded">Mean assemblies loaded before the first response, over the profiled starts.</param>
/// <param name="JitMethods">Mean methods compiled by the JIT.</param>
/// <param name="JitMs">Mean time in the JIT.</param>
/// <param name="GcCount">Mean garbage collections.</param>
/// <param name="GcPauseMs">Mean time paused by them.</param>
/// <param name="TopAssemblies">The assemblies that cost the most in total, slowest first.</param>
/// <param name="TopMethods">The methods that cost the most in total, slowest first.</param>
public sealed record StartupProfileSummary(
    int Records,
    int Profiled,
    double? AssembliesLoaded,
    double? JitMethods,
    double? JitMs,
    double? GcCount,
    double? GcPauseMs,
    IReadOnlyList<ProfileItem> TopAssemblies,
    IReadOnlyList<ProfileItem> TopMethods);

/// <summary>
/// Adds up the <c>obs.startup.*</c> attributes the sidecar puts on each cold-start record (ColdStartRecorder): the
/// counts and times are averaged over the profiled cold starts; <c>top_assemblies</c> and <c>top_methods</c> hold
/// each start's five slowest as <c>"Name 12.34 ms"</c>, so an item's total and mean are over the starts where it
/// was among the five (a start where it was not adds nothing): the ranking is by total.
/// </summary>
public static partial class StartupProfiles
{
    public const int TopItems = 10;

    public static StartupProfileSummary Summarise(IEnumerable<JsonElement> recordAttributes)
    {
        int records = 0, profiled = 0;
        double assemblies = 0, methods = 0, jitMs = 0, gcCount = 0, gcPause = 0;
        var topAssemblies = new Dictionary<string, (int Count, double Ms)>(StringComparer.Ordinal);
        var topMethods = new Dictionary<string, (int Count, double Ms)>(StringComparer.Ordinal);
        foreach (var attributes in recordAttributes)
        {
            records++;
            if (!attributes.TryGetProperty("obs.startup.assemblies_loaded", out _) && !attributes.TryGetProperty("obs.startup.top_assemblies", out _))
            {
                continue;
            }

            profiled++;
            assemblies += Number(attributes, "obs.startup.assemblies_loaded");
            methods += Number(attributes, "obs.startup.jit_methods");
            jitMs += Number(attributes, "obs.startup.jit_ms");
            gcCount += Number(attributes, "obs.startup.gc_count");
            gcPause += Number(attributes, "obs.startup.gc_pause_ms");
            Add(topAssemblies, attributes, "obs.startup.top_assemblies");
            Add(topMethods, attributes, "obs.startup.top_methods");
        }

        double? Mean(double sum) => profiled == 0 ? null : sum / profiled;
        return new StartupProfileSummary(records, profiled, Mean(assemblies), Mean(methods), Mean(jitMs), Mean(gcCount), Mean(gcPause), Top(topAssemblies), Top(topMethods));
    }

    /// <summary>"System.Private.CoreLib 12.34 ms" as its name and milliseconds; null when it is not that form.</summary>
    public static (string Name, double Ms)? ParseItem(string text)
    {
        var match = ItemPattern().Match(text);
        return match.Success ? (match.Groups[1].Value, double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)) : null;
    }

    private static void Add(Dictionary<string, (int Count, double Ms)> totals, JsonElement attributes, string key)
    {
        if (!attributes.TryGetProperty(key, out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String && ParseItem(item.GetString()!) is { } parsed)
            {
                var (count, ms) = totals.GetValueOrDefault(parsed.Name);
                totals[parsed.Name] = (count + 1, ms + parsed.Ms);
            }
        }
    }

    private static ProfileItem[] Top(Dictionary<string, (int Count, double Ms)> totals) =>
        [.. totals.OrderByDescending(t => t.Value.Ms).ThenBy(t => t.Key, StringComparer.Ordinal).Take(TopItems)
            .Select(t => new ProfileItem(t.Key, t.Value.Count, t.Value.Ms, t.Value.Ms / t.Value.Count))];

    private static double Number(JsonElement attributes, string key) =>
        attributes.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : 0;

    [GeneratedRegex(@"^(.+) (-?[0-9]+(?:\.[0-9]+)?) ms$")]
    private static partial Regex ItemPattern();
}
