using YamlDotNet.RepresentationModel;

namespace Observability.Dashboards.Tests.Grafana;

/// <summary>A data source from dashboards/grafana/provisioning/datasources.</summary>
internal sealed record ProvisionedDataSource(string Name, string Uid, string Type, string? Url, IReadOnlyDictionary<string, string> JsonData, IReadOnlyDictionary<string, string> SecureJsonData);

/// <summary>Reads Grafana's data source provisioning files.</summary>
internal static class ProvisionedDataSources
{
    public static IReadOnlyList<ProvisionedDataSource> All()
    {
        var result = new List<ProvisionedDataSource>();
        foreach (var file in Directory.GetFiles(DashboardFiles.GrafanaDataSources).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)))
        {
            var yaml = new YamlStream();
            using (var reader = new StreamReader(file))
            {
                yaml.Load(reader);
            }

            var root = (YamlMappingNode)yaml.Documents[0].RootNode;
            foreach (var item in ((YamlSequenceNode)root["datasources"]).Children.Cast<YamlMappingNode>())
            {
                result.Add(new ProvisionedDataSource(
                    Scalar(item, "name") ?? throw new InvalidDataException($"{file}: a data source without a name"),
                    Scalar(item, "uid") ?? throw new InvalidDataException($"{file}: data source {Scalar(item, "name")} has no uid (dashboards refer to data sources by uid)"),
                    Scalar(item, "type") ?? throw new InvalidDataException($"{file}: data source {Scalar(item, "name")} has no type"),
                    Scalar(item, "url"),
                    Map(item, "jsonData"),
                    Map(item, "secureJsonData")));
            }
        }

        return result;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

    private static Dictionary<string, string> Map(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value)
            ? ((YamlMappingNode)value).Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (kv.Value as YamlScalarNode)?.Value ?? string.Empty)
            : [];
}
