using System.Globalization;
using Npgsql;

namespace Observability.Bench;

/// <summary>
/// CPU time spent by one PostgreSQL cluster (postmaster, its live processes and the backends it has reaped), read
/// from /proc: what the database cost, apart from whatever else shares the machine. Zero where /proc is missing or
/// the server is not on this machine.
/// </summary>
internal sealed class PostgresCpu
{
    // /proc/PID/stat counts in USER_HZ ticks, 100 per second on Linux.
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);
    private readonly int _postmaster;

    private PostgresCpu(int postmaster) => _postmaster = postmaster;

    public static async Task<PostgresCpu> ForAsync(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT current_setting('data_directory')", conn);
        var pidFile = Path.Combine((string)(await cmd.ExecuteScalarAsync())!, "postmaster.pid");
        return new PostgresCpu(File.Exists(pidFile) ? int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture) : 0);
    }

    public TimeSpan Now()
    {
        if (_postmaster == 0 || Stat(_postmaster) is not { } postmaster)
        {
            return TimeSpan.Zero;
        }

        // The postmaster's own time plus what its exited children left it (cutime, cstime), plus the live children.
        var ticks = postmaster.Utime + postmaster.Stime + postmaster.Cutime + postmaster.Cstime;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid) && Stat(pid) is { } child && child.Ppid == _postmaster)
            {
                ticks += child.Utime + child.Stime;
            }
        }

        return ticks * Tick;
    }

    private static (int Ppid, long Utime, long Stime, long Cutime, long Cstime)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // exited meanwhile
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17); comm may hold spaces: split after ')'.
        var f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long L(int field) => long.Parse(f[field - 3], CultureInfo.InvariantCulture);
        return ((int)L(4), L(14), L(15), L(16), L(17));
    }
}
