using System.Text;

namespace Observability.Sidecar.Diagnostics.Endpoints;

/// <summary>Attach mode's endpoint: the diagnostic socket a running .NET process opened for itself.</summary>
internal static class ProcessSocket
{
    /// <summary>The runtime's socket, dotnet-diagnostic-PID-KEY-socket, in our TMPDIR or the process's own.</summary>
    public static string? Find(int pid)
    {
        foreach (var folder in new[] { Path.TrimEndingDirectorySeparator(Path.GetTempPath()), TempPathOf(pid) }.Distinct())
        {
            if (folder is null || !Directory.Exists(folder))
            {
                continue;
            }

            // Several when an earlier process with the same pid left its socket behind: the newest is the live one.
            var newest = new DirectoryInfo(folder).GetFiles($"dotnet-diagnostic-{pid}-*-socket")
                .OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault();
            if (newest is not null)
            {
                return newest.FullName;
            }
        }

        return null;
    }

    private static string? TempPathOf(int pid)
    {
        try
        {
            var environment = File.ReadAllText($"/proc/{pid}/environ", Encoding.UTF8);
            var tmpdir = environment.Split('\0').FirstOrDefault(v => v.StartsWith("TMPDIR=", StringComparison.Ordinal));
            return tmpdir is { Length: > 7 } ? Path.TrimEndingDirectorySeparator(tmpdir[7..]) : "/tmp";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
