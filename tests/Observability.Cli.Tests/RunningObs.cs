using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Observability.Testing;

namespace Observability.Cli.Tests;

/// <summary>
/// A long-running `obs` (demo, attach) as a real process: its output kept, the first JSON line it prints, the
/// processes below it read from /proc, and Ctrl+C as SIGINT to it alone.
/// </summary>
internal sealed class RunningObs : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<JsonElement> _json = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private bool _disposed;

    private RunningObs(Process process) => _process = process;

    public int Pid => _process.Id;

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

    public static RunningObs Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "obs.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var name in new[] { "OBS_COLLECTOR_URL", "OBS_READ_KEY", "OBS_WRITE_KEY", "OBS_METRICS_KEY", "OBS_WARMUP_TOKEN", "OBS_DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT" })
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var obs = new RunningObs(Process.Start(info)!);
        obs._process.OutputDataReceived += (_, e) => obs.Received(e.Data, json: true);
        obs._process.ErrorDataReceived += (_, e) => obs.Received(e.Data, json: false);
        obs._process.BeginOutputReadLine();
        obs._process.BeginErrorReadLine();
        return obs;
    }

    /// <summary>The first line of JSON obs printed (its endpoints), waited for at most <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> JsonAsync(TimeSpan timeout)
    {
        try
        {
            return await _json.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"obs printed no JSON within {timeout}:\n{Output}");
        }
    }

    /// <summary>Every process below obs now (children, their children…), each as pid and start time so a reused pid is not confused with it.</summary>
    public IReadOnlyList<(int Pid, string Start)> Descendants()
    {
        var children = new Dictionary<int, List<(int Pid, string Start)>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Stat(pid) is { } stat)
            {
                children.TryAdd(stat.Parent, []);
                children[stat.Parent].Add((pid, stat.Start));
            }
        }

        var found = new List<(int Pid, string Start)>();
        var queue = new Queue<int>([_process.Id]);
        while (queue.TryDequeue(out var pid))
        {
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                found.Add(child);
                queue.Enqueue(child.Pid);
            }
        }

        return found;
    }

    /// <summary>Whether that very process still runs (not a zombie).</summary>
    public static bool Alive((int Pid, string Start) process) =>
        Stat(process.Pid) is { } now && now.Start == process.Start && now.State != "Z";

    /// <summary>Ctrl+C: SIGINT to obs alone, then its exit code, within <paramref name="timeout"/>.</summary>
    public async Task<int> InterruptAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"obs did not stop within {timeout} of SIGINT:\n{Output}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static (int Parent, string Start, string State)? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (int.Parse(fields[1], CultureInfo.InvariantCulture), fields[19], fields[0]);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private void Received(string? line, bool json)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (json && line.StartsWith('{'))
        {
            _json.TrySetResult(JsonDocument.Parse(line).RootElement.Clone());
        }
    }
}
