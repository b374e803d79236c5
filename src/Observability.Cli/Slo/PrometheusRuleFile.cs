using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Observability.Cli.Slo;

/// <summary>The shape of a Prometheus rules file, for serialising generated rules.</summary>
internal sealed class PrometheusRuleFile
{
    [YamlMember(Order = 0)]
    public List<PrometheusRuleGroup> Groups { get; init; } = [];
}

internal sealed class PrometheusRuleGroup
{
    [YamlMember(Order = 0)]
    public required string Name { get; init; }

    [YamlMember(Order = 1)]
    public List<PrometheusRule> Rules { get; init; } = [];
}

/// <summary>A recording rule (Record set) or an alerting rule (Alert set).</summary>
internal sealed class PrometheusRule
{
    [YamlMember(Order = 0)]
    public string? Record { get; init; }

    [YamlMember(Order = 1)]
    public string? Alert { get; init; }

    // A block scalar keeps PromQL readable: no quotes to escape, one line per clause.
    [YamlMember(Order = 2, ScalarStyle = ScalarStyle.Literal)]
    public required string Expr { get; init; }

    [YamlMember(Order = 3)]
    public string? For { get; init; }

    // Sorted so that the output does not depend on the order labels were added in.
    [YamlMember(Order = 4)]
    public SortedDictionary<string, string>? Labels { get; init; }

    [YamlMember(Order = 5)]
    public SortedDictionary<string, string>? Annotations { get; init; }
}
