namespace Observability.Cli.Demo;

/// <summary>
/// The repository `obs` was built in: the demo runs its samples, the sidecar and the Prometheus rules from there
/// (obs.dll lives under it, in src/Observability.Cli/bin or a test project's bin).
/// </summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Observability.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("The repository (Observability.sln) is not above obs.dll nor the current folder: run obs from a clone of the repository (./obs demo).");
    }
}
