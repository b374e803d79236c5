namespace Observability.Testing;

/// <summary>The repository the tests run from, and what its build put beside them.</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>A file of another project's build output, in the tests' own configuration (bin/Release or bin/Debug).</summary>
    public static string Built(string folder, string project, string file)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        return Path.Combine(Root, folder, project, "bin", configuration, "net10.0", file);
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Observability.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Observability.sln not found above the test folder");
    }
}
