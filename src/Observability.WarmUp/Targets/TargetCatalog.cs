using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Observability.Otlp.Semantics;
using Observability.WarmUp.Scheduling;
using Observability.WarmUp.Storage;

namespace Observability.WarmUp.Targets;

/// <summary>
/// The targets of one planner run: the targets file (read each run, so edits apply within a minute) and the
/// functions whose sidecars advertise a warm-up URL; for a function in both, the file wins, taking only the url
/// from the advertisement when it gives none. Saved to warmup.targets for the collector's API.
/// </summary>
internal sealed partial class TargetCatalog(IOptions<WarmUpOptions> options, PingLedger ledger, ILogger<TargetCatalog> logger)
{
    public async Task<IReadOnlyList<WarmUpTarget>> LoadAsync(DateTimeOffset now, bool collectorTables, CancellationToken ct)
    {
        var o = options.Value;
        var configured = string.IsNullOrEmpty(o.TargetsFile)
            ? []
            : TargetsFileReader.Read(o.TargetsFile, o.PolicyDefaults, o.Instances, o.BudgetPerHour, o.DefaultPolicy);
        var advertised = collectorTables
            ? (await ledger.DiscoverAsync(ObsConventions.WarmUpUrl, now - o.DiscoveryWindow, ct)).ToDictionary(d => d.Function, d => d.Url, StringComparer.Ordinal)
            : [];

        var targets = new List<WarmUpTarget>();
        foreach (var c in configured)
        {
            var url = c.Url ?? advertised.GetValueOrDefault(c.Function);
            if (url is null)
            {
                LogNoUrl(logger, c.Function);
                continue;
            }

            targets.Add(new WarmUpTarget(c.Function, url, c.Policy, c.Settings, c.Instances, c.BudgetPerHour, c.ActiveHours, WarmUpTarget.FromConfig));
        }

        if (o.Discover)
        {
            var inFile = configured.Select(c => c.Function).ToHashSet(StringComparer.Ordinal);
            targets.AddRange(advertised
                .Where(a => !inFile.Contains(a.Key))
                .OrderBy(a => a.Key, StringComparer.Ordinal)
                .Select(a => new WarmUpTarget(a.Key, a.Value, o.DefaultPolicy, o.PolicyDefaults, o.Instances, o.BudgetPerHour, null, WarmUpTarget.Discovered)));
        }

        await ledger.SaveTargetsAsync(targets, now, ct);
        return targets;
    }

    [LoggerMessage(EventId = (int)WarmUpLogEvents.TargetWithoutUrl, Level = LogLevel.Warning, Message = "Target {Function} in the targets file has no url and its sidecar advertises none (obs.warmup.url): not warmed")]
    private static partial void LogNoUrl(ILogger logger, string function);
}
