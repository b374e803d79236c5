using System.Xml.Linq;
using Observability.Deploy.Tests.Model;
using Observability.Testing;

namespace Observability.Deploy.Tests;

/// <summary>
/// The Dockerfiles' build stages, checked without a Docker engine: what they copy exists, and the project files copied
/// before `dotnet restore` are every project the published one references, so restore sees the whole graph.
/// </summary>
public sealed class DockerfileBuildTests
{
    private static IEnumerable<string> DockerfilePaths =>
        Directory.GetFiles(Path.Combine(DeployTree.Root, "docker"), "*.Dockerfile");

    /// <summary>The instructions of every stage, continuation lines joined, comments dropped.</summary>
    private static List<string> Instructions(string dockerfile)
    {
        var lines = new List<string>();
        var current = string.Empty;
        foreach (var line in File.ReadAllLines(dockerfile).Select(l => l.Trim()).Where(l => !l.StartsWith('#')))
        {
            current += line.EndsWith('\\') ? line[..^1] + " " : line;
            if (!line.EndsWith('\\') && current.Trim().Length > 0)
            {
                lines.Add(current.Trim());
                current = string.Empty;
            }
            else if (!line.EndsWith('\\'))
            {
                current = string.Empty;
            }
        }

        return lines;
    }

    /// <summary>Sources of the COPY instructions that copy from the build context (not from another stage or image).</summary>
    private static IEnumerable<(int Line, string Source)> ContextCopies(List<string> instructions) =>
        instructions.Select((text, line) => (text, line))
            .Where(i => i.text.StartsWith("COPY ", StringComparison.Ordinal) && !i.text.Contains("--from=", StringComparison.Ordinal))
            .SelectMany(i => i.text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1].Select(source => (i.line, source)));

    [Fact]
    public void Every_file_a_Dockerfile_copies_from_the_build_context_exists()
    {
        var missing = DockerfilePaths
            .SelectMany(d => ContextCopies(Instructions(d)).Select(c => (Dockerfile: Path.GetFileName(d), c.Source)))
            .Where(c => !File.Exists(Path.Combine(RepositoryFiles.Root, c.Source)) && !Directory.Exists(Path.Combine(RepositoryFiles.Root, c.Source)))
            .Select(c => $"{c.Dockerfile}: COPY {c.Source}")
            .ToList();

        Assert.True(missing.Count == 0, "not in the repository (the build context):\n" + string.Join('\n', missing));
    }

    [Fact]
    public void Each_Dockerfile_copies_every_project_of_the_published_ones_graph_before_restoring_it()
    {
        foreach (var dockerfile in DockerfilePaths)
        {
            var instructions = Instructions(dockerfile);
            var restore = instructions.FindIndex(i => i.StartsWith("RUN ", StringComparison.Ordinal) && i.Contains("dotnet restore", StringComparison.Ordinal));
            var publish = instructions.Single(i => i.StartsWith("RUN ", StringComparison.Ordinal) && i.Contains("dotnet publish", StringComparison.Ordinal));
            var published = publish.Split(' ').Single(t => t.EndsWith(".csproj", StringComparison.Ordinal));
            var copiedBeforeRestore = ContextCopies(instructions).Where(c => c.Line < restore).Select(c => c.Source).ToHashSet(StringComparer.Ordinal);

            Assert.True(restore >= 0, $"{dockerfile}: no dotnet restore");
            foreach (var project in ProjectGraph(published))
            {
                Assert.True(copiedBeforeRestore.Contains(project), $"{Path.GetFileName(dockerfile)}: {project} (referenced by {published}) is not copied before dotnet restore");
            }

            // The build settings every project reads (Directory.*.props, central package versions, the SDK pin).
            Assert.All(["global.json", "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props"], f => Assert.Contains(f, copiedBeforeRestore));
        }
    }

    /// <summary>The project and every project it references, transitively, as paths from the repository root.</summary>
    private static HashSet<string> ProjectGraph(string project)
    {
        var graph = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!graph.Add(current))
            {
                continue;
            }

            var directory = Path.GetDirectoryName(Path.Combine(RepositoryFiles.Root, current))!;
            foreach (var reference in XDocument.Load(Path.Combine(RepositoryFiles.Root, current)).Descendants("ProjectReference"))
            {
                pending.Push(Path.GetRelativePath(RepositoryFiles.Root, Path.GetFullPath(Path.Combine(directory, reference.Attribute("Include")!.Value))));
            }
        }

        return graph;
    }
}
