using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Observability.Hosting;

/// <summary>
/// A private PostgreSQL cluster started from the machine's own binaries (/usr/lib/postgresql/*/bin):
/// what `obs up` runs when no database is configured, and what the tests use where no Docker engine is.
/// PostgreSQL refuses to run as root, so as root the server runs as the "postgres" user via runuser.
/// </summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly bool _ownsDirectory;
    private readonly bool _durable;

    private LocalPostgres(string bin, string dataDirectory, int port, bool ownsDirectory, bool durable)
    {
        _bin = bin;
        DataDirectory = dataDirectory;
        Port = port;
        _ownsDirectory = ownsDirectory;
        _durable = durable;
    }

    public string DataDirectory { get; }

    public int Port { get; }

    /// <summary>The same place as a postgres:// URL, the form OBS_DATABASE_URL takes.</summary>
    public string Url(string database = "postgres") => $"postgres://postgres@127.0.0.1:{Port}/{database}";

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Timeout=5";

    /// <summary>
    /// Initialises (if needed) and starts a cluster. With no <paramref name="dataDirectory"/> it lives in a
    /// temporary folder removed on dispose. <paramref name="durable"/> false turns fsync off: for tests only.
    /// </summary>
    public static async Task<LocalPostgres> StartAsync(string? dataDirectory = null, int? port = null, bool durable = true, CancellationToken ct = default)
    {
        var bin = FindBinaries();
        var owns = dataDirectory is null;
        if (owns)
        {
            RemoveStaleTemporaryClusters();
        }

        var root = dataDirectory ?? Path.Combine(Path.GetTempPath(), "obs-pg-" + Guid.NewGuid().ToString("N")[..12]);
        var pg = new LocalPostgres(bin, Path.GetFullPath(root), port ?? FreePort(), owns, durable);
        await pg.InitAsync(ct);
        await pg.StartServerAsync(ct);
        return pg;
    }

    // Temporary clusters of earlier runs whose process exited before it could delete them (a test host
    // killed at exit, say): a folder with no postmaster.pid has no server running in it. Only folders
    // untouched for 10 minutes: a parallel run may be initialising one right now.
    private static void RemoveStaleTemporaryClusters()
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), "obs-pg-*"))
        {
            if (!File.Exists(Path.Combine(dir, "data", "postmaster.pid"))
                && Directory.GetLastWriteTimeUtc(dir) < DateTime.UtcNow.AddMinutes(-10))
            {
                try
                {
                    Directory.Delete(dir, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another run may be creating or removing it right now.
                }
            }
        }
    }

    /// <summary>The newest PostgreSQL server binaries on the machine, or OBS_PG_BIN.</summary>
    public static string FindBinaries()
    {
        var configured = Environment.GetEnvironmentVariable("OBS_PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(Path.Combine(configured, "initdb")) ? configured : throw new InvalidOperationException($"OBS_PG_BIN={configured} has no initdb.");
        }

        var found = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException(
            "No PostgreSQL server binaries under /usr/lib/postgresql/*/bin: install them (apt-get install postgresql) or set OBS_PG_BIN.");
    }

    public async Task StopServerAsync(CancellationToken ct = default) =>
        await RunAsync(Pg("pg_ctl"), ["-D", DataPath, "-m", "fast", "-w", "stop"], ct);

    public async Task StartServerAsync(CancellationToken ct = default)
    {
        var options = $"-p {Port} -k {SocketPath} -c listen_addresses=127.0.0.1 -c max_connections=200" +
            (_durable ? string.Empty : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        await RunAsync(Pg("pg_ctl"), ["-D", DataPath, "-o", options, "-l", Path.Combine(DataDirectory, "postgres.log"), "-w", "-t", "60", "start"], ct);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopServerAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        if (_ownsDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A leftover temp folder is not worth failing for; the next start sweeps it.
            }
        }
    }

    private string DataPath => Path.Combine(DataDirectory, "data");

    private string SocketPath => Path.Combine(DataDirectory, "sock");

    private static bool IsRoot => Environment.UserName == "root";

    private string Pg(string tool) => Path.Combine(_bin, tool);

    private async Task InitAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(SocketPath);
        if (IsRoot)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", DataDirectory], ct, asPostgres: false);
        }

        if (!File.Exists(Path.Combine(DataPath, "PG_VERSION")))
        {
            await RunAsync(Pg("initdb"), ["-D", DataPath, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"], ct);
        }
    }

    private static async Task RunAsync(string file, string[] args, CancellationToken ct, bool asPostgres = true)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres && IsRoot)
        {
            info.FileName = "runuser";
            foreach (var a in new[] { "-u", "postgres", "--", file })
            {
                info.ArgumentList.Add(a);
            }
        }
        else
        {
            info.FileName = file;
        }

        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}{await stdout}");
        }
    }

    /// <summary>
    /// A port free now, chosen below the kernel's ephemeral range: a port handed out by bind(0) can be given
    /// again to another process's port-0 listener or outgoing connection before its new owner binds it.
    /// </summary>
    public static int FreePort()
    {
        var ephemeralLow = 32768;
        if (File.Exists("/proc/sys/net/ipv4/ip_local_port_range")
            && int.TryParse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0], out var low))
        {
            ephemeralLow = low;
        }

        for (var attempt = 0; attempt < 100 && ephemeralLow > 11000; attempt++)
        {
            var port = Random.Shared.Next(10000, ephemeralLow);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
