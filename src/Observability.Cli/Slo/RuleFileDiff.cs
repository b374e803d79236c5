namespace Observability.Cli.Slo;

internal enum RuleFileChangeKind
{
    Unchanged,
    Added,
    Changed,
    Stale,
}

/// <summary>What generating would do to one rules file; <see cref="Detail"/> names the first differing line.</summary>
internal sealed record RuleFileChange(string File, RuleFileChangeKind Kind, string? Detail = null);

/// <summary>Compares generated rules files with a folder: new, changed, unchanged, and generated files no spec makes any more.</summary>
internal static class RuleFileDiff
{
    public static IReadOnlyList<RuleFileChange> Compare(IReadOnlyDictionary<string, string> generated, string directory)
    {
        var changes = new List<RuleFileChange>();
        foreach (var (file, content) in generated)
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path))
            {
                changes.Add(new(file, RuleFileChangeKind.Added));
                continue;
            }

            var existing = File.ReadAllText(path);
            changes.Add(existing == content ? new(file, RuleFileChangeKind.Unchanged) : new(file, RuleFileChangeKind.Changed, FirstDifference(existing, content)));
        }

        if (Directory.Exists(directory))
        {
            foreach (var path in Directory.EnumerateFiles(directory, SloRuleGenerator.FilePrefix + "*.yml").Order(StringComparer.Ordinal))
            {
                var file = Path.GetFileName(path);
                if (!generated.ContainsKey(file))
                {
                    changes.Add(new(file, RuleFileChangeKind.Stale));
                }
            }
        }

        return changes.OrderBy(c => c.File, StringComparer.Ordinal).ToList();
    }

    private static string FirstDifference(string existing, string expected)
    {
        var have = existing.Split('\n');
        var want = expected.Split('\n');
        for (var i = 0; i < Math.Max(have.Length, want.Length); i++)
        {
            var a = i < have.Length ? have[i].TrimEnd('\r') : "(end of file)";
            var b = i < want.Length ? want[i].TrimEnd('\r') : "(end of file)";
            if (a != b)
            {
                return $"line {i + 1}: the file has \"{a.Trim()}\", the specs generate \"{b.Trim()}\"";
            }
        }

        return "line endings differ";
    }
}
