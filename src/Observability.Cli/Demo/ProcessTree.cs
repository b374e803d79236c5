using System.Globalization;

namespace Observability.Cli.Demo;

/// <summary>A process as /proc/PID/stat names it: its id and its start time (clock ticks after boot), so a reused id is not mistaken for it.</summary>
internal readonly record struct ProcessId(int Pid, long StartTicks);

/// <summary>The processes below a process (children, their children…), read from /proc: what `obs demo` checks it left nothing of.</summary>
internal static class ProcessTree
{
    public static IReadOnlyList<ProcessId> Descendants(int root)
    {
        var parents = new Dictionary<int, List<ProcessId>>();
        foreach (var process in All())
        {
            if (!parents.TryGetValue(process.Parent, out var children))
            {
                parents[process.Parent] = children = [];
            }

            children.Add(process.Id);
        }

        var found = new List<ProcessId>();
        var queue = new Queue<int>([root]);
        while (queue.TryDequeue(out var pid))
        {
            foreach (var child in parents.GetValueOrDefault(pid) ?? [])
            {
                found.Add(child);
                queue.Enqueue(child.Pid);
            }
        }

        return found;
    }

    /// <summary>Whether the very process (same id, same start) still runs; a zombie waiting for its parent counts as gone.</summary>
    public static bool IsAlive(ProcessId process) =>
        Read(process.Pid) is { } now && now.Id.StartTicks == process.StartTicks && now.State != 'Z';

    private static IEnumerable<(ProcessId Id, int Parent, char State)> All()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Read(pid) is { } process)
            {
                yield return process;
            }
        }
    }

    private static (ProcessId Id, int Parent, char State)? Read(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so the fields start after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (new ProcessId(pid, long.Parse(fields[19], CultureInfo.InvariantCulture)), int.Parse(fields[1], CultureInfo.InvariantCulture), fields[0][0]);
    }
}
