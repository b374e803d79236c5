using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Observability.Sidecar.Telemetry;
using OpenTelemetry.Proto.Collector.Logs.V1;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Delivers failure snapshots as OTLP/HTTP protobuf log exports. Each one is written to the spool folder
/// first and deleted once the collector took it (or refused it for good: a 4xx other than 429), so a
/// snapshot survives a collector outage and a sidecar restart. Retryable answers (429, 502, 503, 504,
/// no connection) back off, honouring Retry-After. Snapshots are rare, so one file each and one sender do.
/// </summary>
public sealed partial class SnapshotExporter : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);

    private readonly Uri _endpoint;
    private readonly string _folder;
    private readonly int _maxFiles;
    private readonly HttpClient _http;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sender;
    private int _disposed;

    /// <summary>Starts the sender. An https endpoint is trusted through the system's roots, or only the CAs in <c>certificateFile</c> when given.</summary>
    public SnapshotExporter(Uri endpoint, IReadOnlyList<KeyValuePair<string, string>> headers, string folder, int maxFiles, SidecarMetrics metrics, TimeProvider time, ILogger logger, string? certificateFile = null)
    {
        _endpoint = new Uri(endpoint, "v1/logs");
        _folder = folder;
        _maxFiles = maxFiles;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5), SslOptions = ExportTls.ClientOptions(certificateFile) }) { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var (name, value) in headers)
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }

        UpdateSpoolGauge();
        _sender = Task.Run(SendLoopAsync);
    }

    /// <summary>Spools one export and wakes the sender. False (and counted) when the spool is full.</summary>
    public bool Enqueue(ExportLogsServiceRequest export)
    {
        if (Directory.EnumerateFiles(_folder, "*.pb").Take(_maxFiles).Count() >= _maxFiles)
        {
            _metrics.SnapshotsDropped.WithLabels("spool_full").Inc();
            return false;
        }

        // Names sort by time, so the oldest is sent first; written aside and renamed, so a half-written file is never sent.
        var name = Path.Combine(_folder, $"{_time.GetUtcNow().UtcTicks:D20}-{Guid.NewGuid():N}");
        File.WriteAllBytes(name + ".tmp", export.ToByteArray());
        File.Move(name + ".tmp", name + ".pb");
        UpdateSpoolGauge();
        _wake.Release();
        return true;
    }

    private async Task SendLoopAsync()
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (true)
        {
            var wait = TimeSpan.FromSeconds(30);
            foreach (var file in Directory.EnumerateFiles(_folder, "*.pb").Order(StringComparer.Ordinal).ToList())
            {
                var retryAfter = await SendAsync(file);
                if (retryAfter is not null)
                {
                    wait = retryAfter > TimeSpan.Zero ? retryAfter.Value : backoff;
                    backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
                    break;
                }

                backoff = TimeSpan.FromSeconds(1);
            }

            UpdateSpoolGauge();
            using var timeout = new CancellationTokenSource(wait, _time);
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stop.Token);
            try
            {
                await _wake.WaitAsync(waiting.Token);
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                // Time to retry.
            }
        }
    }

    /// <returns>null when the file is done with (delivered or refused for good); else how long to wait (zero: back off).</returns>
    private async Task<TimeSpan?> SendAsync(string file)
    {
        byte[] body;
        try
        {
            body = await File.ReadAllBytesAsync(file, _stop.Token);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        try
        {
            using var response = await _http.PostAsync(_endpoint, content, _stop.Token);
            var code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                _metrics.SnapshotsExported.Inc();
                File.Delete(file);
                return null;
            }

            if (code is 429 or 502 or 503 or 504)
            {
                return response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero;
            }

            LogRefused(code, await response.Content.ReadAsStringAsync(_stop.Token));
            _metrics.SnapshotsDropped.WithLabels("refused").Inc();
            File.Delete(file);
            return null;
        }
        catch (HttpRequestException e)
        {
            LogUnreachable(e.Message);
            return TimeSpan.Zero;
        }
        catch (TaskCanceledException) when (!_stop.IsCancellationRequested)
        {
            return TimeSpan.Zero;
        }
    }

    private void UpdateSpoolGauge() => _metrics.SpoolBytes.WithLabels("snapshots").Set(new DirectoryInfo(_folder).EnumerateFiles("*.pb").Sum(f => f.Length));

    /// <summary>Tries once more to deliver what is spooled (bounded), then stops; what is left stays for the next start.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _wake.Release();
        await Task.WhenAny(_sender, Task.Delay(TimeSpan.FromSeconds(2), _time));
        await _stop.CancelAsync();
        await _sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Error, Message = "The collector refused a failure snapshot for good (HTTP {Status}): {Reason}")]
    private partial void LogRefused(int status, string reason);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Debug, Message = "Failure snapshot not delivered yet, will retry: {Reason}")]
    private partial void LogUnreachable(string reason);
}
