using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Observability.Deploy.Tests.Model;

/// <summary>YAML read without a schema: mappings as dictionaries, sequences as lists, scalars as strings.</summary>
internal static class Yaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    /// <summary>Every document of a (multi-document) YAML file; throws on a syntax error.</summary>
    public static IReadOnlyList<Dictionary<object, object?>> LoadAll(string path)
    {
        var parser = new Parser(new StringReader(File.ReadAllText(path)));
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<object, object?>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (Deserializer.Deserialize<Dictionary<object, object?>?>(parser) is { } document)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    public static Dictionary<object, object?> Load(string path) => LoadAll(path).Single();

    public static Dictionary<object, object?>? Map(this Dictionary<object, object?> map, string key) =>
        map.TryGetValue(key, out var value) ? value as Dictionary<object, object?> : null;

    public static IEnumerable<Dictionary<object, object?>> Maps(this Dictionary<object, object?> map, string key) =>
        map.TryGetValue(key, out var value) && value is List<object?> list ? list.OfType<Dictionary<object, object?>>() : [];

    public static IEnumerable<string> Strings(this Dictionary<object, object?> map, string key) =>
        map.TryGetValue(key, out var value) && value is List<object?> list ? list.OfType<string>() : [];

    public static string? Str(this Dictionary<object, object?> map, string key) =>
        map.TryGetValue(key, out var value) ? value as string : null;

    /// <summary>A value at a dotted path of mappings ("spec.template.spec"), or null.</summary>
    public static Dictionary<object, object?>? At(this Dictionary<object, object?> map, string path)
    {
        Dictionary<object, object?>? node = map;
        foreach (var key in path.Split('.'))
        {
            node = node?.Map(key);
        }

        return node;
    }
}
