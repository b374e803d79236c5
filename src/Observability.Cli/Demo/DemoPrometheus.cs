using System.Globalization;
using System.Text;

namespace Observability.Cli.Demo;

/// <summary>
/// Debian's prometheus beside the demo: the suite's rules (dashboards/prometheus/rules) and a scrape configuration
/// written for the demo's ports and metrics key, with 5 s scrape and evaluation intervals so that rules and alerts
/// have values within a minute. Its storage starts empty at every run.
/// </summary>
internal static class DemoPrometheus
{
    /// <summary>prometheus on PATH, or null (scripts/ensure-deps.sh installs Debian's package).</summary>
    public static string? FindBinary() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "prometheus"))
            .FirstOrDefault(File.Exists);

    public static async Task<ChildProcess> StartAsync(string binary, string folder, int port, Uri collector, Uri? scheduler, string metricsKey, IEnumerable<DemoFunction> functions, CancellationToken ct)
    {
        Directory.CreateDirectory(folder);
        var data = Path.Combine(folder, "data");
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }

        var keyFile = Path.Combine(folder, "metrics-key");
        await File.WriteAllTextAsync(keyFile, metricsKey, ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var configFile = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(configFile, Config(keyFile, collector, scheduler, functions), ct);

        var process = ChildProcess.Start(
            "prometheus",
            binary,
            ["--config.file=" + configFile, "--storage.tsdb.path=" + data, $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            logFile: Path.Combine(folder, "prometheus.log"));
        try
        {
            await process.WaitUntilReadyAsync(new Uri($"http://127.0.0.1:{port}/-/ready"), TimeSpan.FromSeconds(60), ct);
            return process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    private static string Config(string keyFile, Uri collector, Uri? scheduler, IEnumerable<DemoFunction> functions)
    {
        var config = new StringBuilder();
        config.AppendLine("# Written by `obs demo` at every start.");
        config.AppendLine("global:\n  scrape_interval: 5s\n  scrape_timeout: 5s\n  evaluation_interval: 5s");
        config.AppendLine(CultureInfo.InvariantCulture, $"rule_files:\n  - {Quote(Repository.PathOf("dashboards", "prometheus", "rules") + "/*.yml")}");
        config.AppendLine("scrape_configs:");
        Job(config, "obs-collector", [collector.Authority], keyFile);
        if (scheduler is not null)
        {
            Job(config, "obs-warmup", [scheduler.Authority], keyFile);
        }

        Job(config, "obs-sidecar", [.. functions.Select(f => $"127.0.0.1:{f.AdminPort}")], keyFile: null);
        return config.ToString();
    }

    private static void Job(StringBuilder config, string name, IReadOnlyList<string> targets, string? keyFile)
    {
        config.AppendLine(CultureInfo.InvariantCulture, $"  - job_name: {name}");
        if (keyFile is not null)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"    authorization:\n      type: Bearer\n      credentials_file: {Quote(keyFile)}");
        }

        config.AppendLine(CultureInfo.InvariantCulture, $"    static_configs:\n      - targets: [{string.Join(", ", targets.Select(Quote))}]");
    }

    private static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
}
