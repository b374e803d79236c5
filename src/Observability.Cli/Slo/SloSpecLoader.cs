using System.Globalization;
using System.Text.RegularExpressions;
using Observability.Collector.Metrics;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Observability.Cli.Slo;

/// <summary>
/// Reads the SLO specs of a folder (every *.yaml / *.yml, one SLO a file) and checks them. Every problem of every
/// file is collected, each naming its file and field, so that one run shows all there is to fix.
/// </summary>
internal static partial class SloSpecLoader
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    /// <summary>The specs of <paramref name="directory"/>, ordered by name.</summary>
    /// <exception cref="SloSpecException">Any file is unreadable or invalid; lists every problem.</exception>
    public static IReadOnlyList<SloSpec> LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new SloSpecException([$"{directory}: no such folder; run from the repository root or give --specs"]);
        }

        var files = Directory.EnumerateFiles(directory)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        var errors = new List<string>();
        var specs = new List<SloSpec>();
        foreach (var file in files)
        {
            var display = Path.GetRelativePath(Directory.GetCurrentDirectory(), file);
            if (Parse(File.ReadAllText(file), display, errors) is { } spec)
            {
                specs.Add(spec);
            }
        }

        foreach (var duplicate in specs.GroupBy(s => s.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add($"name: \"{duplicate.Key}\" is used by {string.Join(" and ", duplicate.Select(s => s.SourceFile))}; SLO names must be unique");
        }

        if (files.Count == 0)
        {
            errors.Add($"{directory}: no SLO specs (*.yaml) found");
        }

        return errors.Count > 0 ? throw new SloSpecException(errors) : specs.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>One spec from YAML text; problems go to <paramref name="errors"/> as "file: field: what".</summary>
    public static SloSpec? Parse(string yaml, string file, List<string> errors)
    {
        SloSpecDocument? doc;
        try
        {
            doc = Yaml.Deserialize<SloSpecDocument>(yaml);
        }
        catch (YamlException e)
        {
            // YamlDotNet says "Property 'x' not found on type ..." for an unknown field: say it in the spec's terms.
            var unknown = UnknownProperty().Match(e.InnerException?.Message ?? e.Message);
            errors.Add(unknown.Success
                ? $"{file}: line {e.Start.Line}: unknown field \"{unknown.Groups[1].Value}\"; the fields are {SloSpecDocument.Fields}"
                : $"{file}: line {e.Start.Line}: not a valid SLO spec: {(e.InnerException ?? e).Message}");
            return null;
        }

        if (doc is null)
        {
            errors.Add($"{file}: empty; an SLO spec needs {SloSpecDocument.Fields}");
            return null;
        }

        var before = errors.Count;
        void Error(string field, string what) => errors.Add($"{file}: {field}: {what}");

        var name = doc.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            Error("name", "missing; give the SLO a name such as \"checkout-availability\"");
        }
        else if (!SloName().IsMatch(name))
        {
            Error("name", $"\"{name}\" may hold only lower-case letters, digits and '-' (it names a rules file and a label)");
        }

        var function = doc.Function?.Trim();
        if (string.IsNullOrEmpty(function))
        {
            Error("function", "missing; give the function's name (faas.name, the sidecar's --name)");
        }

        decimal objective = 0;
        if (string.IsNullOrWhiteSpace(doc.Objective))
        {
            Error("objective", "missing; give the percentage of good invocations, such as 99.9");
        }
        else if (!decimal.TryParse(doc.Objective, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out objective) || objective <= 0 || objective >= 100)
        {
            Error("objective", $"\"{doc.Objective}\" is not a percentage above 0 and below 100, such as 99.9");
        }

        var window = SloWindow.Default;
        if (doc.Window is { } windowText)
        {
            var found = SloWindow.Allowed.FirstOrDefault(w => w.Text == windowText.Trim());
            if (found is null)
            {
                Error("window", $"\"{windowText}\" is not allowed; use one of {string.Join(", ", SloWindow.Allowed.Select(w => w.Text))} (default {SloWindow.Default.Text})");
            }
            else
            {
                window = found;
            }
        }

        var sli = SliKind.Availability;
        switch (doc.Sli?.Trim())
        {
            case "availability":
                if (doc.Threshold is not null)
                {
                    Error("threshold", "only a latency SLI has a threshold; remove it or set sli: latency");
                }

                break;
            case "latency":
                sli = SliKind.Latency;
                break;
            case null or "":
                Error("sli", "missing; use availability or latency");
                break;
            default:
                Error("sli", $"\"{doc.Sli}\" is not an SLI; use availability or latency");
                break;
        }

        decimal? threshold = null;
        if (sli == SliKind.Latency)
        {
            var boundaries = FunctionMetrics.InvokeBucketBoundaries.Select(b => (decimal)b).ToList();
            var valid = string.Join(", ", boundaries.Select(Format));
            if (string.IsNullOrWhiteSpace(doc.Threshold))
            {
                Error("threshold", $"missing; a latency SLI needs a threshold in seconds, one of the faas_invoke_duration_seconds buckets: {valid}");
            }
            else if (!decimal.TryParse(doc.Threshold, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
            {
                Error("threshold", $"\"{doc.Threshold}\" is not a number of seconds; use one of {valid}");
            }
            else if (!boundaries.Contains(seconds))
            {
                Error("threshold", $"{Format(seconds)} s is not a bucket boundary of faas_invoke_duration_seconds, so Prometheus cannot count invocations under it; use one of {valid}");
            }
            else
            {
                threshold = seconds;
            }
        }

        return errors.Count > before
            ? null
            : new SloSpec(name!, function!, objective, window, sli, threshold, string.IsNullOrWhiteSpace(doc.Description) ? null : doc.Description.Trim(), file);
    }

    /// <summary>A decimal without trailing zeros ("0.5", "99.9", "1"), as rules and messages print it.</summary>
    public static string Format(decimal value) => value.ToString("0.############################", CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")]
    private static partial Regex SloName();

    [GeneratedRegex("Property '([^']+)' not found")]
    private static partial Regex UnknownProperty();
}

/// <summary>A spec file as written; every value is read as text so that the checks can say what was wrong.</summary>
internal sealed class SloSpecDocument
{
    public const string Fields = "name, function, objective, window, sli, threshold, description";

    public string? Name { get; set; }

    public string? Function { get; set; }

    public string? Objective { get; set; }

    public string? Window { get; set; }

    public string? Sli { get; set; }

    public string? Threshold { get; set; }

    public string? Description { get; set; }
}

/// <summary>One or more SLO specs are invalid; <see cref="Errors"/> says where and why.</summary>
internal sealed class SloSpecException(IReadOnlyList<string> errors) : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
