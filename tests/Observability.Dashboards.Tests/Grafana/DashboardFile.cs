using System.Text.Json;
using System.Text.Json.Nodes;

namespace Observability.Dashboards.Tests.Grafana;

/// <summary>A data source reference as a panel or target writes it.</summary>
internal sealed record DataSourceRef(string? Type, string? Uid);

/// <summary>One query of one panel: PromQL (Expr) or SQL (RawSql); NoValue is what the panel shows when the query has no series.</summary>
internal sealed record PanelQuery(string Dashboard, int PanelId, string PanelTitle, string RefId, DataSourceRef DataSource, string? Expr, string? RawSql, string? NoValue = null)
{
    public override string ToString() => $"{Dashboard} / {PanelTitle} ({PanelId}) / {RefId}";
}

/// <summary>A query template variable: its name and the label_values(...) query that fills it.</summary>
internal sealed record QueryVariable(string Name, string Definition, DataSourceRef DataSource);

/// <summary>One Grafana dashboard JSON file, read as Grafana would.</summary>
internal sealed class DashboardFile
{
    private DashboardFile(string path, JsonObject json)
    {
        Path = path;
        Json = json;
    }

    public string Path { get; }

    public JsonObject Json { get; }

    public string FileName => System.IO.Path.GetFileName(Path);

    public string Uid => (string?)Json["uid"] ?? string.Empty;

    public string Title => (string?)Json["title"] ?? string.Empty;

    /// <summary>Every panel, rows' nested panels included (a collapsed row keeps its panels inside it).</summary>
    public IEnumerable<JsonObject> Panels
    {
        get
        {
            foreach (var panel in Json["panels"]?.AsArray().OfType<JsonObject>() ?? [])
            {
                yield return panel;
                foreach (var nested in panel["panels"]?.AsArray().OfType<JsonObject>() ?? [])
                {
                    yield return nested;
                }
            }
        }
    }

    public IEnumerable<JsonObject> TemplateVariables => Json["templating"]?["list"]?.AsArray().OfType<JsonObject>() ?? [];

    public IEnumerable<QueryVariable> QueryVariables =>
        TemplateVariables.Where(v => (string?)v["type"] == "query")
            .Select(v => new QueryVariable((string)v["name"]!, (string?)v["definition"] ?? string.Empty, Ref(v["datasource"])));

    /// <summary>Every query of every panel; a target without a data source of its own uses its panel's.</summary>
    public IEnumerable<PanelQuery> Queries =>
        from panel in Panels
        from target in panel["targets"]?.AsArray().OfType<JsonObject>() ?? []
        select new PanelQuery(
            Title,
            (int?)panel["id"] ?? -1,
            (string?)panel["title"] ?? string.Empty,
            (string?)target["refId"] ?? string.Empty,
            target["datasource"] is null ? Ref(panel["datasource"]) : Ref(target["datasource"]),
            (string?)target["expr"],
            (string?)target["rawSql"],
            (string?)panel["fieldConfig"]?["defaults"]?["noValue"]);

    /// <summary>Every data source reference anywhere in the dashboard: panels, targets, variables, internal data links.</summary>
    public IEnumerable<(string Where, DataSourceRef Ref)> DataSourceReferences()
    {
        var found = new List<(string, DataSourceRef)>();
        Walk(Json, "$", found);
        return found;
    }

    public static IReadOnlyList<DashboardFile> All() =>
        [.. Directory.GetFiles(DashboardFiles.GrafanaDashboards, "*.json").Order(StringComparer.Ordinal).Select(Load)];

    public static DashboardFile Load(string path)
    {
        var node = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow })
            ?? throw new InvalidDataException($"{path} is empty");
        return new DashboardFile(path, node.AsObject());
    }

    private static DataSourceRef Ref(JsonNode? node) => node switch
    {
        null => new DataSourceRef(null, null),
        JsonValue v => new DataSourceRef(null, (string?)v), // the old form: a data source name as a string
        _ => new DataSourceRef((string?)node["type"], (string?)node["uid"]),
    };

    private static void Walk(JsonNode? node, string where, List<(string, DataSourceRef)> found)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    if (key == "datasource" && value is not null)
                    {
                        found.Add(($"{where}.{key}", Ref(value)));
                    }
                    else if (key == "datasourceUid" && value is JsonValue uid)
                    {
                        found.Add(($"{where}.{key}", new DataSourceRef(null, (string?)uid)));
                    }
                    else
                    {
                        Walk(value, $"{where}.{key}", found);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], $"{where}[{i}]", found);
                }

                break;
            default:
                break;
        }
    }
}
