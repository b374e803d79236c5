using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Observability.Sidecar.Configuration;

namespace Observability.Sidecar.Telemetry;

/// <summary>
/// Sends the span batches waiting in the disk spool: at start (what a sidecar killed during a collector outage
/// left behind) and every few seconds after. The OTLP exporter's own disk retry (OpenTelemetry 1.20) replays
/// only every 60 s, at most 10 batches a pass, and has no public way to start sooner; this sends everything
/// as soon as the collector answers. A batch is leased the way the exporter leases it (renamed to
/// "NAME.blob@UNTIL.lock"), so the two never send the same batch at once, and a lease left by a killed process
/// expires back into a batch. The collector's ingest is idempotent, so a batch sent twice is stored once.
/// </summary>
public sealed partial class SpanSpoolReplay : IAsyncDisposable
{
    private const string LeaseTimeFormat = "yyyy-MM-ddTHHmmss.fffffffZ"; // the exporter's own (PersistentStorageHelper)
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(15); // longer than a send may take (10 s)
    private static readonly TimeSpan Pass = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly Uri _endpoint;
    private readonly string _folder;
    private readonly HttpClient _http;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public SpanSpoolReplay(Uri endpoint, IReadOnlyList<KeyValuePair<string, string>> headers, string spool, SidecarMetrics metrics, TimeProvider time, ILogger<SpanSpoolReplay> logger)
    {
        _endpoint = new Uri(endpoint, "v1/traces");
        _folder = Path.Combine(spool, "traces"); // where the exporter keeps trace batches under its retry folder
        _metrics = metrics;
        _time = time;
        _logger = logger;
        // Bounded both ways, so a collector that accepts and never answers holds one batch for 10 s, not forever.
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var (name, value) in headers)
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>Starts sending, in the background.</summary>
    public void Start() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!_stop.IsCancellationRequested)
        {
            TimeSpan wait;
            if (await SendAllAsync())
            {
                wait = Pass;
                backoff = TimeSpan.FromSeconds(1);
            }
            else
            {
                wait = backoff;
                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }

            await Task.Delay(wait, _time, _stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <returns>False when the collector could not take a batch now (try again after a backoff).</returns>
    private async Task<bool> SendAllAsync()
    {
        if (!Directory.Exists(_folder))
        {
            return true;
        }

        var now = _time.GetUtcNow().UtcDateTime;
        foreach (var lease in Directory.EnumerateFiles(_folder, "*.lock").ToList())
        {
            ReturnIfExpired(lease, now);
        }

        foreach (var batch in Directory.EnumerateFiles(_folder, "*.blob").Order(StringComparer.Ordinal).ToList())
        {
            if (_stop.IsCancellationRequested)
            {
                return true;
            }

            var leased = $"{batch}@{(now + Lease).ToString(LeaseTimeFormat, CultureInfo.InvariantCulture)}.lock";
            try
            {
                File.Move(batch, leased);
            }
            catch (Exception e) when (e is FileNotFoundException or IOException)
            {
                continue; // the exporter took it first
            }

            if (await SendAsync(leased) is not { } delivered)
            {
                File.Move(leased, batch);
                return false;
            }

            _metrics.SpoolReplayed.WithLabels(delivered ? "delivered" : "refused").Inc();
            File.Delete(leased);
        }

        return true;
    }

    /// <returns>True: delivered; false: refused for good; null: retry later.</returns>
    private async Task<bool?> SendAsync(string file)
    {
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(file, _stop.Token));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        try
        {
            using var response = await _http.PostAsync(_endpoint, content, _stop.Token);
            var code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return true;
            }

            if (code is 429 or 502 or 503 or 504)
            {
                return null;
            }

            LogRefused(code);
            return false;
        }
        catch (HttpRequestException e)
        {
            LogUnreachable(e.Message);
            return null;
        }
        catch (TaskCanceledException)
        {
            return null; // timed out, or stopping
        }
    }

    private static void ReturnIfExpired(string lease, DateTime now)
    {
        var name = Path.GetFileName(lease);
        var at = name.LastIndexOf('@');
        if (at > 0 && DateTime.TryParseExact(name[(at + 1)..^".lock".Length], LeaseTimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var until) && until < now)
        {
            try
            {
                File.Move(lease, Path.Combine(Path.GetDirectoryName(lease)!, name[..at]));
            }
            catch (Exception e) when (e is FileNotFoundException or IOException)
            {
                // Someone else returned it.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Error, Message = "The collector refused a spooled span batch for good (HTTP {Status}); it is dropped")]
    private partial void LogRefused(int status);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Debug, Message = "Spooled spans not delivered yet, will retry: {Reason}")]
    private partial void LogUnreachable(string reason);
}
