using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Observability.Hosting;
using Observability.Testing;

namespace Observability.Dashboards.Tests.Prometheus;

/// <summary>A scrape job: its name, its targets (host:port), and the bearer token their /metrics want (null: none).</summary>
internal sealed record ScrapeJob(string Name, IReadOnlyList<string> Targets, string? BearerToken);

/// <summary>
/// A real Prometheus (Debian's prometheus binary) on loopback, with a configuration written here: a 1 s scrape
/// and evaluation interval, the given jobs and rule files, and its own throwaway storage.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly StringBuilder _output;

    private PrometheusServer(Process process, string folder, StringBuilder output, int port)
    {
        _process = process;
        _folder = folder;
        _output = output;
        Api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Api { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<PrometheusServer> StartAsync(IEnumerable<ScrapeJob> jobs, IEnumerable<string> ruleFiles)
    {
        var binary = FindBinary();
        var folder = Directory.CreateTempSubdirectory("obs-prometheus-").FullName;
        var config = new StringBuilder();
        config.AppendLine("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s");
        config.AppendLine("rule_files:");
        foreach (var file in ruleFiles)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"  - {Quote(file)}");
        }

        config.AppendLine("scrape_configs:");
        var index = 0;
        foreach (var job in jobs)
        {
            var tokenFile = Path.Combine(folder, $"token-{index++}");
            config.AppendLine(CultureInfo.InvariantCulture, $"  - job_name: {Quote(job.Name)}");
            if (job.BearerToken is not null)
            {
                await File.WriteAllTextAsync(tokenFile, job.BearerToken);
                config.AppendLine(CultureInfo.InvariantCulture, $"    authorization:\n      type: Bearer\n      credentials_file: {Quote(tokenFile)}");
            }

            config.AppendLine(CultureInfo.InvariantCulture, $"    static_configs:\n      - targets: [{string.Join(", ", job.Targets.Select(Quote))}]");
        }

        var configFile = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(configFile, config.ToString());
        var port = LocalPostgres.FreePort();
        var info = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
        {
            "--config.file=" + configFile, "--storage.tsdb.path=" + Path.Combine(folder, "data"),
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, folder, output, port);
        await Poll.UntilAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"prometheus exited with {process.ExitCode}: {server.Output}\nconfig:\n{config}");
                }

                try
                {
                    return (await server.Api.GetAsync("/-/ready")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            ready => ready,
            TimeSpan.FromSeconds(60),
            "prometheus to be ready");
        return server;
    }

    /// <summary>An instant query (/api/v1/query), now or at a given time; the result's series or samples.</summary>
    public async Task<JsonElement> QueryAsync(string expression, DateTimeOffset? at = null)
    {
        List<KeyValuePair<string, string>> form = [new("query", expression)];
        if (at is { } time)
        {
            form.Add(new("time", (time.ToUnixTimeMilliseconds() / 1000.0).ToString("F3", CultureInfo.InvariantCulture)));
        }

        using var response = await Api.PostAsync("/api/v1/query", new FormUrlEncodedContent(form));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (!response.IsSuccessStatusCode || body.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Prometheus refused {expression}: {body}");
        }

        return body.GetProperty("data");
    }

    /// <summary>label_values(selector, label) as Grafana asks it (/api/v1/label/NAME/values?match[]=).</summary>
    public async Task<IReadOnlyList<string>> LabelValuesAsync(string label, string selector)
    {
        var body = await Api.GetFromJsonAsync<JsonElement>($"/api/v1/label/{Uri.EscapeDataString(label)}/values?match[]={Uri.EscapeDataString(selector)}");
        return [.. body.GetProperty("data").EnumerateArray().Select(v => v.GetString()!).Order(StringComparer.Ordinal)];
    }

    public async Task<JsonElement> GetAsync(string path) => (await Api.GetFromJsonAsync<JsonElement>(path)).GetProperty("data");

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>prometheus on PATH (scripts/ensure-deps.sh installs Debian's): a clear failure, not a skip, when missing.</summary>
    private static string FindBinary()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, "prometheus");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException("prometheus is not on PATH: install Debian's prometheus package (scripts/ensure-deps.sh does)");
    }
}
