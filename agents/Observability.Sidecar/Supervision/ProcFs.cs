using System.Globalization;

namespace Observability.Sidecar.Supervision;

/// <summary>What attach mode reads from /proc about a process it did not start.</summary>
internal static class ProcFs
{
    private const string Listen = "0A"; // TCP_LISTEN in /proc/net/tcp

    /// <summary>The process listening on a TCP port: /proc/net/tcp{,6} gives the socket's inode, /proc/PID/fd the owner.</summary>
    public static int? FindListeningPid(int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && f[3] == Listen
                    && int.Parse(f[1][(f[1].LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                {
                    inodes.Add($"socket:[{f[9]}]");
                }
            }
        }

        if (inodes.Count == 0)
        {
            return null;
        }

        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                if (Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd"))
                    .Any(fd => new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target)))
                {
                    return pid;
                }
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // Another user's process, or gone: not ours to attach to.
            }
        }

        return null;
    }

    /// <summary>The environment a process started with (/proc/PID/environ), empty when it cannot be read.</summary>
    public static IReadOnlyDictionary<string, string> ReadEnvironment(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/environ")
                .Split('\0', StringSplitOptions.RemoveEmptyEntries)
                .Select(e => e.Split('=', 2))
                .Where(kv => kv.Length == 2)
                .GroupBy(kv => kv[0], StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return new Dictionary<string, string>();
        }
    }

    /// <summary>The kernel's start time of a process (/proc/PID/stat, in 10 ms clock ticks), or <paramref name="fallback"/> once it is gone.</summary>
    public static DateTime StartTime(System.Diagnostics.Process process, DateTime fallback)
    {
        try
        {
            return process.StartTime.ToUniversalTime();
        }
        catch (InvalidOperationException)
        {
            return fallback;
        }
    }

    public static bool IsAlive(int pid, DateTime startTime)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            // A new process may have taken the pid: compare start times.
            return !process.HasExited && Math.Abs((process.StartTime.ToUniversalTime() - startTime).TotalSeconds) < 1;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
