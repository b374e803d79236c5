using System.Net.Http.Headers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Observability.Sidecar.Telemetry;

namespace Observability.Sidecar.Diagnostics.Dumps;

/// <summary>
/// Uploads the dumps the sidecar wrote to the collector (PUT /v1/dumps/{id} on its OTLP/HTTP endpoint, with the export
/// headers, so the write key), one at a time on a worker of its own: never on a request's path. The file is streamed
/// from disk; each attempt is bounded by a timeout, retryable answers (429, 502, 503, 504, no connection) back off and
/// retry a few times. Every outcome is counted in obs_sidecar_dump_uploads_total. A dump stays on disk unless the
/// collector committed it and <c>deleteUploaded</c> says so.
/// A queued dump has a marker beside it (<c>DUMP.upload</c>, holding its id) until its upload ends for good; at
/// start the uploader sends the dumps whose markers it finds in its directory, so a stop (a restart, a retry
/// given up while the collector was away) does not leave a dump the snapshot names but the collector never gets.
/// </summary>
internal sealed partial class DumpUploader : IAsyncDisposable
{
    /// <summary>Attempts per dump: the first and three retries, after 2, 4 and 8 seconds (or the collector's Retry-After, up to a minute).</summary>
    internal const int Attempts = 4;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(1);
    private const string MarkerSuffix = ".upload";

    private readonly Uri _endpoint;
    private readonly string _directory;
    private readonly TimeSpan _attemptTimeout;
    private readonly bool _deleteUploaded;
    private readonly HttpClient _http;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Dumps are rare (one per DumpMinInterval at most): a short queue, and a full one means the collector is far behind.
    private readonly Channel<(string Id, string Path)> _queue = Channel.CreateBounded<(string, string)>(new BoundedChannelOptions(4) { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private int _disposed;

    /// <summary>
    /// Starts the worker, which first sends the dumps left pending in <paramref name="directory"/>. <paramref name="endpoint"/>
    /// is the OTLP/HTTP base URL; TLS trust as for the other exports.
    /// </summary>
    public DumpUploader(Uri endpoint, string directory, IReadOnlyList<KeyValuePair<string, string>> headers, string? certificateFile, TimeSpan attemptTimeout, bool deleteUploaded, SidecarMetrics metrics, TimeProvider time, ILogger logger)
    {
        _endpoint = endpoint;
        _directory = directory;
        _attemptTimeout = attemptTimeout;
        _deleteUploaded = deleteUploaded;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5), SslOptions = ExportTls.ClientOptions(certificateFile) })
        {
            // Each attempt has its own bound, which a large dump on a slow link needs longer than HttpClient's default.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        foreach (var (name, value) in headers)
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }

        // Taken before anything can be queued, so that a dump queued now is not also found pending.
        var pending = Pending();
        _worker = Task.Run(() => WorkAsync(pending));
    }

    /// <summary>A new id for a dump: the snapshot names it, and the upload goes under it.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N");

    /// <summary>Queues the dump at <paramref name="path"/> for upload as <paramref name="id"/>; never waits. False (counted) when the queue is full.</summary>
    public bool Enqueue(string id, string path)
    {
        try
        {
            File.WriteAllText(path + MarkerSuffix, id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without its marker the dump is still sent now, just not after a restart.
        }

        if (_queue.Writer.TryWrite((id, path)))
        {
            return true;
        }

        Files.TryDelete(path + MarkerSuffix); // its snapshot has no id: nothing would ask for it later
        _metrics.DumpUploads.WithLabels("queue_full").Inc();
        LogQueueFull(id, path);
        return false;
    }

    private async Task WorkAsync(List<(string Id, string Path)> pending)
    {
        try
        {
            foreach (var (id, path) in pending)
            {
                LogResuming(id, path);
                await SendAsync(id, path);
            }

            await foreach (var (id, path) in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                await SendAsync(id, path);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopping: what is left stays on disk, and its snapshot says where.
        }
    }

    private async Task SendAsync(string id, string path)
    {
        var outcome = await UploadAsync(id, path);
        _metrics.DumpUploads.WithLabels(outcome).Inc();
        if (outcome != "gave_up")
        {
            Files.TryDelete(path + MarkerSuffix); // the upload ended for good: nothing to take up again
        }
    }

    /// <summary>The dumps of this directory whose upload was queued and never ended (their markers), oldest first.</summary>
    private List<(string Id, string Path)> Pending()
    {
        var pending = new List<(string, string)>();
        try
        {
            foreach (var marker in new DirectoryInfo(_directory).EnumerateFiles("*" + MarkerSuffix).OrderBy(f => f.LastWriteTimeUtc))
            {
                var dump = marker.FullName[..^MarkerSuffix.Length];
                var id = File.ReadAllText(marker.FullName).Trim();
                if (File.Exists(dump) && id.Length is > 0 and <= 64 && id.All(char.IsAsciiLetterOrDigit))
                {
                    pending.Add((id, dump));
                }
                else
                {
                    Files.TryDelete(marker.FullName); // its dump is gone (deleted by hand) or the marker is not ours
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No directory yet (no dump written) or not readable: nothing to take up.
        }

        return pending;
    }

    /// <returns>The outcome counted: uploaded, already_stored, too_large, refused, gave_up or missing.</returns>
    internal async Task<string> UploadAsync(string id, string path)
    {
        var uri = new Uri(_endpoint, $"v1/dumps/{id}");
        var backoff = FirstBackoff;
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter;
            string problem;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(_attemptTimeout);
                await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
                using var content = new StreamContent(file, 64 * 1024);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                content.Headers.ContentLength = file.Length;
                var started = _time.GetTimestamp();
                // Expect: 100-continue: a collector that refuses the dump (key, size) says so before megabytes are sent.
                using var request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = content };
                request.Headers.ExpectContinue = true;
                using var response = await _http.SendAsync(request, timeout.Token);
                var code = (int)response.StatusCode;
                // 409: the collector already holds this id, which only this sidecar gave: an earlier attempt was
                // committed and its answer lost. Dumps are written once, so that one is this file.
                if (response.IsSuccessStatusCode || code == 409)
                {
                    var elapsed = _time.GetElapsedTime(started);
                    LogUploaded(id, file.Length, elapsed.TotalMilliseconds, path);
                    await file.DisposeAsync();
                    if (_deleteUploaded)
                    {
                        Files.TryDelete(path);
                    }

                    return code == 409 ? "already_stored" : "uploaded";
                }

                var answer = await ReadErrorAsync(response, timeout.Token);
                if (code is not (429 or 502 or 503 or 504))
                {
                    LogRefused(id, code, answer, path);
                    return code == 413 ? "too_large" : "refused";
                }

                retryAfter = response.Headers.RetryAfter?.Delta;
                problem = $"HTTP {code}: {answer}";
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                LogMissing(id, path);
                return "missing";
            }
            catch (HttpRequestException e)
            {
                retryAfter = null;
                problem = e.Message;
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                retryAfter = null;
                problem = $"no answer within {_attemptTimeout}";
            }

            if (attempt == Attempts)
            {
                LogGaveUp(id, Attempts, problem, path);
                return "gave_up";
            }

            var wait = retryAfter is { } asked && asked > TimeSpan.Zero ? (asked < MaxRetryAfter ? asked : MaxRetryAfter) : backoff;
            LogRetrying(id, attempt, problem, wait.TotalSeconds);
            await Task.Delay(wait, _time, _stop.Token);
            backoff *= 2;
        }
    }

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        return text.Length > 500 ? text[..500] : text;
    }

    /// <summary>Stops at once: an upload under way is cut off (the collector keeps nothing of it) and its file stays.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        await _worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 3115, Level = LogLevel.Information, Message = "Uploaded dump {DumpId} to the collector: {Bytes} bytes in {ElapsedMs:F0} ms (from {Path})")]
    private partial void LogUploaded(string dumpId, long bytes, double elapsedMs, string path);

    [LoggerMessage(EventId = 3116, Level = LogLevel.Warning, Message = "The collector refused dump {DumpId} for good (HTTP {Status}): {Reason}; it stays at {Path}")]
    private partial void LogRefused(string dumpId, int status, string reason, string path);

    [LoggerMessage(EventId = 3117, Level = LogLevel.Warning, Message = "Gave up uploading dump {DumpId} after {Attempts} attempts ({Reason}); it stays at {Path}")]
    private partial void LogGaveUp(string dumpId, int attempts, string reason, string path);

    [LoggerMessage(EventId = 3118, Level = LogLevel.Debug, Message = "Dump {DumpId} upload attempt {Attempt} failed ({Reason}); retrying in {WaitSeconds:F0} s")]
    private partial void LogRetrying(string dumpId, int attempt, string reason, double waitSeconds);

    [LoggerMessage(EventId = 3121, Level = LogLevel.Information, Message = "Taking up the upload of dump {DumpId} that an earlier run queued ({Path})")]
    private partial void LogResuming(string dumpId, string path);

    [LoggerMessage(EventId = 3119, Level = LogLevel.Warning, Message = "Dump {DumpId} not uploaded: the upload queue is full; it stays at {Path}")]
    private partial void LogQueueFull(string dumpId, string path);

    [LoggerMessage(EventId = 3120, Level = LogLevel.Warning, Message = "Dump {DumpId} not uploaded: {Path} is gone")]
    private partial void LogMissing(string dumpId, string path);
}
