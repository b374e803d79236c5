using System.Globalization;
using Observability.WarmUp.Policies;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Observability.WarmUp.Targets;

/// <summary>
/// Reads the targets file: YAML (JSON is YAML too), a list under <c>targets:</c>, one entry per function. Every key
/// but <c>function</c> is optional and falls back to the scheduler's defaults; a url left out is taken from the
/// function's sidecar advertisement. Unknown keys are errors, so a typo does not silently keep a default.
/// </summary>
public static class TargetsFileReader
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    /// <summary>What is wrong with the file, naming the entry and key; null when it reads.</summary>
    public static string? Problem(string path)
    {
        try
        {
            _ = Read(path, PolicySettings.Default, instances: 1, budgetPerHour: 60, defaultPolicy: "idle");
            return null;
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }

    /// <exception cref="FormatException">The file does not parse or an entry is wrong; the message names it.</exception>
    public static IReadOnlyList<ConfiguredTarget> Read(string path, PolicySettings defaults, int instances, int budgetPerHour, string defaultPolicy)
    {
        TargetsDocument? document;
        try
        {
            document = Yaml.Deserialize<TargetsDocument?>(File.ReadAllText(path));
        }
        catch (YamlException e)
        {
            throw new FormatException($"not valid targets YAML at line {e.Start.Line}, column {e.Start.Column}: {(e.InnerException ?? e).Message}", e);
        }

        var targets = new List<ConfiguredTarget>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (entry, index) in (document?.Targets ?? []).Select((t, i) => (t, i)))
        {
            var where = $"targets[{index}]";
            if (string.IsNullOrWhiteSpace(entry.Function))
            {
                throw new FormatException($"{where}: \"function\" is required (the function's faas.name).");
            }

            where = $"targets[{index}] ({entry.Function})";
            if (!seen.Add(entry.Function))
            {
                throw new FormatException($"{where}: the function is listed twice.");
            }

            Uri? url = null;
            if (entry.Url is not null && (!Uri.TryCreate(entry.Url, UriKind.Absolute, out url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
            {
                throw new FormatException($"{where}: \"url\" must be an absolute http(s) URL of the function's sidecar, e.g. http://orders:8081/.");
            }

            var policy = entry.Policy ?? defaultPolicy;
            if (!WarmUpPolicies.Names.Contains(policy))
            {
                throw new FormatException($"{where}: \"policy\" \"{policy}\" is not one of {string.Join(", ", WarmUpPolicies.Names)}.");
            }

            var settings = new PolicySettings(
                Duration(entry.KeepAlive, "keepAlive", where) ?? defaults.KeepAlive,
                Duration(entry.Margin, "margin", where) ?? defaults.Margin,
                Duration(entry.FixedInterval, "fixedInterval", where) ?? defaults.FixedInterval);
            if (settings.KeepAlive <= TimeSpan.Zero || settings.FixedInterval <= TimeSpan.Zero || settings.Margin < TimeSpan.Zero || settings.Margin >= settings.KeepAlive)
            {
                throw new FormatException($"{where}: keepAlive and fixedInterval must be positive, and margin at least 0 and shorter than keepAlive.");
            }

            if (entry.Instances is < 1 or > 1000)
            {
                throw new FormatException($"{where}: \"instances\" must be from 1 to 1000.");
            }

            if (entry.BudgetPerHour is < 1)
            {
                throw new FormatException($"{where}: \"budgetPerHour\" must be at least 1.");
            }

            ActiveHours? active = null;
            if (entry.ActiveHours is not null)
            {
                try
                {
                    active = ActiveHours.Parse(entry.ActiveHours, entry.TimeZone);
                }
                catch (FormatException e)
                {
                    throw new FormatException($"{where}: \"activeHours\": {e.Message}", e);
                }
            }

            targets.Add(new ConfiguredTarget(entry.Function, url, policy, settings, entry.Instances ?? instances, entry.BudgetPerHour ?? budgetPerHour, active));
        }

        return targets;
    }

    private static TimeSpan? Duration(string? value, string key, string where) =>
        value is null ? null
        : TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) ? span
        : throw new FormatException($"{where}: \"{key}\" \"{value}\" is not a duration; write hh:mm:ss, e.g. \"00:10:00\".");

    private sealed class TargetsDocument
    {
        public List<TargetEntry> Targets { get; set; } = [];
    }

    private sealed class TargetEntry
    {
        public string? Function { get; set; }

        public string? Url { get; set; }

        public string? Policy { get; set; }

        public int? Instances { get; set; }

        public string? KeepAlive { get; set; }

        public string? Margin { get; set; }

        public string? FixedInterval { get; set; }

        public string? ActiveHours { get; set; }

        public string? TimeZone { get; set; }

        public int? BudgetPerHour { get; set; }
    }
}

/// <summary>A target as the file gives it: the url may be left to the function's sidecar advertisement.</summary>
public sealed record ConfiguredTarget(string Function, Uri? Url, string Policy, PolicySettings Settings, int Instances, int BudgetPerHour, ActiveHours? ActiveHours);
