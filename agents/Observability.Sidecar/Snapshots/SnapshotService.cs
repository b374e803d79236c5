using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Observability.Otlp.Semantics;
using Observability.Sidecar.Configuration;
using Observability.Sidecar.Diagnostics;
using Observability.Sidecar.Diagnostics.Dumps;
using Observability.Sidecar.Supervision;
using Observability.Sidecar.Telemetry;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OtlpResource = OpenTelemetry.Proto.Resource.V1.Resource;

namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Takes failure snapshots: the proxy and the supervisor hand over what they know without waiting; a
/// background worker adds the function's last log lines, runtime exceptions, process state and environment,
/// redacts, and hands the OTLP log record to the exporter. Bounded twice: a rate limit per minute (an error
/// storm must not become a snapshot storm) and a small queue; every snapshot not taken is counted.
/// </summary>
public sealed partial class SnapshotService : IAsyncDisposable
{
    private readonly SidecarOptions _options;
    private readonly FunctionSupervisor _supervisor;
    private readonly SnapshotExporter? _exporter;
    private readonly DumpUploader? _dumps;
    private readonly Redactor _redactor;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<SnapshotService> _logger;
    private readonly Channel<FailureContext> _queue = Channel.CreateBounded<FailureContext>(new BoundedChannelOptions(64) { SingleReader = true });
    private readonly RepeatedField<KeyValue> _resource;
    private readonly Lock _rateLock = new();
    private readonly Task _worker;
    // Exceptions thrown just before the request was seen as received still belong to it (clocks differ slightly).
    internal static readonly TimeSpan ExceptionLead = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ExceptionWait = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan UnhandledGrace = TimeSpan.FromSeconds(2);

    private long? _lastDump;
    private int _disposed;
    private long _windowStart;
    private int _inWindow;

    public SnapshotService(IOptions<SidecarOptions> options, FunctionSupervisor supervisor, SidecarMetrics metrics, TimeProvider time, ILogger<SnapshotService> logger)
    {
        _options = options.Value;
        _supervisor = supervisor;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _redactor = new Redactor(_options.RedactHeaders, _options.RedactPatterns, OwnSecrets.Of(_options, System.Environment.GetEnvironmentVariables()));
        _resource = ResourceAttributes(_options);
        if (_options.EffectiveOtlpEndpoint is { } endpoint && _options.MaxSnapshotsPerMinute > 0)
        {
            _exporter = new SnapshotExporter(endpoint, _options.EffectiveOtlpHeaders, _options.SnapshotSpoolDirectory, _options.SnapshotSpoolMaxFiles, metrics, time, logger, _options.EffectiveOtlpCertificate);
            if (_options.DumpOnFailure is not null && _options.UploadDumps)
            {
                _dumps = new DumpUploader(endpoint, _options.EffectiveDumpDirectory, _options.EffectiveOtlpHeaders, _options.EffectiveOtlpCertificate, _options.DumpUploadTimeout, !_options.KeepUploadedDumps, metrics, time, logger);
            }
        }

        supervisor.Exited += OnFunctionExited;
        supervisor.Started += OnFunctionStarted;
        _worker = Task.Run(WorkAsync);
    }

    /// <summary>Takes a snapshot of a failure, later; never blocks. False when rate-limited or queue full (counted).</summary>
    public bool Capture(FailureContext failure)
    {
        if (_exporter is null)
        {
            return false;
        }

        failure.Instance?.MarkFailureReported(failure.Time);
        if (!TakeRateToken())
        {
            _metrics.SnapshotsDropped.WithLabels("rate_limited").Inc();
            return false;
        }

        if (!_queue.Writer.TryWrite(failure))
        {
            _metrics.SnapshotsDropped.WithLabels("queue_full").Inc();
            return false;
        }

        return true;
    }

    private bool TakeRateToken()
    {
        var now = _time.GetTimestamp();
        lock (_rateLock)
        {
            if (_time.GetElapsedTime(_windowStart, now) >= TimeSpan.FromMinutes(1))
            {
                _windowStart = now;
                _inWindow = 0;
            }

            return ++_inWindow <= _options.MaxSnapshotsPerMinute;
        }
    }

    // An exception the app reports as unhandled (for .NET, through the diagnostics port): a snapshot of its own,
    // unless a failing request already reported it (an exception in a request handler is also a 500).
    private void OnFunctionStarted(FunctionInstance instance) => _ = Task.Run(async () =>
    {
        if (await instance.Runtime is { } monitor)
        {
            monitor.UnhandledException += e => _ = Task.Run(async () =>
            {
                await Task.Delay(UnhandledGrace, _time);
                if (instance.LastFailureReported is not { } reported || reported < e.Time - UnhandledGrace)
                {
                    Capture(new FailureContext { Trigger = FailureTrigger.UnhandledException, Time = e.Time, RequestReceived = e.Time, Instance = instance, Error = $"{e.Type}: {e.Message}" });
                }
            });
        }
    });

    // A crash that no failing request reported (the function died between requests): a snapshot of its own.
    private void OnFunctionExited(FunctionInstance instance, int? exitCode)
    {
        _ = Task.Run(async () =>
        {
            // Give a request that was cut off by the crash the chance to report it with its trace.
            await Task.Delay(TimeSpan.FromSeconds(1), _time);
            if (instance.TryClaimCrashReport())
            {
                Capture(new FailureContext { Trigger = FailureTrigger.Crash, Time = _time.GetUtcNow().UtcDateTime, Instance = instance, ExitCode = exitCode, Error = $"the function exited with code {exitCode}" });
            }
        });
    }

    private async Task WorkAsync()
    {
        await foreach (var failure in _queue.Reader.ReadAllAsync())
        {
            try
            {
                var record = await BuildAsync(failure);
                if (_exporter!.Enqueue(Export(record)))
                {
                    _metrics.Snapshots.WithLabels(failure.Trigger).Inc();
                    LogTaken(failure.Trigger, failure.Span.TraceId);
                }
            }
#pragma warning disable CA1031 // A snapshot that cannot be built must not stop the ones after it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _metrics.SnapshotsDropped.WithLabels("error").Inc();
                LogBuildFailed(e);
            }
        }
    }

    internal async Task<LogRecord> BuildAsync(FailureContext failure)
    {
        var monitor = failure.Instance is { } i && i.Runtime.IsCompletedSuccessfully ? i.Runtime.Result : null;
        var match = monitor is null ? new ExceptionMatch([], null) : await ExceptionsAsync(monitor, failure);
        var exceptions = match.Exceptions;
        var body = new JsonObject
        {
            ["trigger"] = failure.Trigger,
            ["time"] = failure.Time.ToString("O"),
            ["function"] = new JsonObject { ["name"] = _options.FunctionName, ["version"] = _options.FunctionVersion, ["instance"] = _options.Instance },
        };
        if (failure.Span != default)
        {
            body["traceId"] = failure.Span.TraceId.ToHexString();
            body["spanId"] = failure.Span.SpanId.ToHexString();
        }

        if (failure.Method is not null)
        {
            var request = failure.Request is { } r ? SnapshotDocument.Message(r, _redactor, _options.SnapshotBinaryBodies) : [];
            request["method"] = failure.Method;
            request["url"] = _redactor.Text(failure.Url ?? string.Empty);
            request["protocol"] = failure.Protocol;
            body["request"] = request;
        }

        if (failure.Status is { } status)
        {
            var response = failure.Response is { } r ? SnapshotDocument.Message(r, _redactor, _options.SnapshotBinaryBodies) : [];
            response["status"] = status;
            body["response"] = response;
        }

        if (failure.Error is { } error)
        {
            body["error"] = _redactor.Text(error);
        }

        if (failure.GrpcStatus is { } grpcStatus)
        {
            body["grpc"] = new JsonObject { ["statusCode"] = grpcStatus, ["status"] = new Proxy.GrpcStatus(grpcStatus, null).Name, ["message"] = failure.GrpcMessage is { } m ? _redactor.Text(m) : null };
        }

        if (match.How is { } how)
        {
            body["exceptionsMatch"] = how;
            body["concurrentRequests"] = failure.OtherRequests;
        }

        if (exceptions.Count > 0)
        {
            body["exceptions"] = new JsonArray([.. exceptions.Select(e => (JsonNode)new JsonObject
            {
                ["time"] = e.Time.ToString("O"),
                ["type"] = e.Type,
                ["message"] = _redactor.Text(e.Message),
                ["stackTrace"] = e.StackTrace is null ? null : _redactor.Text(e.StackTrace),
                ["threadId"] = e.ThreadId,
            })]);
        }

        // The function's output is read in batches: take in what it wrote up to now first.
        failure.Instance?.Output?.CatchUp();
        body["logs"] = new JsonArray([.. _supervisor.Logs.Snapshot().Select(l => (JsonNode)_redactor.Text(l)!)]);
        if (failure.Instance is { } instance)
        {
            var process = ProcessState(instance, failure.ExitCode);
            if (monitor is not null)
            {
                process["gcHeapBytes"] = monitor.GcHeapBytes;
                process["gcCount"] = monitor.GcCount;
            }

            body["process"] = process;
            body["environment"] = Environment(instance);
            if (monitor is not null && await DumpAsync(monitor, failure) is { } dump)
            {
                body["dump"] = dump;
            }
        }

        var record = new LogRecord
        {
            TimeUnixNano = UnixNanos(failure.Time),
            ObservedTimeUnixNano = UnixNanos(_time.GetUtcNow().UtcDateTime),
            SeverityNumber = SeverityNumber.Error,
            SeverityText = "ERROR",
            EventName = ObsConventions.FailureSnapshotEvent,
            Body = SnapshotDocument.ToAnyValue(body),
            Attributes =
            {
                Attribute(ObsConventions.SnapshotTrigger, failure.Trigger),
            },
        };
        if (failure.Status is { } code)
        {
            record.Attributes.Add(new KeyValue { Key = FaasConventions.HttpResponseStatusCode, Value = new AnyValue { IntValue = code } });
        }

        if (failure.Method is not null)
        {
            record.Attributes.Add(Attribute(FaasConventions.HttpRequestMethod, failure.Method));
        }

        // The exception conventions, from the exception most likely at fault: the last one the app logged with its stack.
        if (match.MayBlame && (exceptions.LastOrDefault(e => e.StackTrace is not null) ?? (exceptions.Count > 0 ? exceptions[^1] : null)) is { } blamed)
        {
            record.Attributes.Add(Attribute(FaasConventions.ExceptionType, blamed.Type));
            record.Attributes.Add(Attribute(FaasConventions.ExceptionMessage, _redactor.Text(blamed.Message)));
            if (blamed.StackTrace is { } stack)
            {
                record.Attributes.Add(Attribute(FaasConventions.ExceptionStackTrace, _redactor.Text(stack)));
            }
        }

        if (failure.Span != default)
        {
            record.TraceId = SnapshotDocument.IdBytes(failure.Span.TraceId);
            record.SpanId = SnapshotDocument.IdBytes(failure.Span.SpanId);
            record.Flags = (uint)failure.Span.TraceFlags;
        }

        return record;
    }

    /// <summary>
    /// The runtime's exceptions while the request ran, matched to it (<see cref="ExceptionMatch"/>). The runtime reports
    /// them a moment later (up to about a second, measured), and the stack and trace id later still, when the app logs
    /// the exception: wait for both, bounded.
    /// </summary>
    private async Task<ExceptionMatch> ExceptionsAsync(RuntimeMonitor monitor, FailureContext failure)
    {
        var since = (failure.RequestReceived ?? failure.Time) - ExceptionLead;
        var until = failure.RequestEnded is { } ended ? ended + ExceptionLead : DateTime.MaxValue;
        var traceId = failure.Span != default ? failure.Span.TraceId.ToHexString() : null;
        var expectOne = failure.Trigger is FailureTrigger.ServerError or FailureTrigger.UnhandledException or FailureTrigger.GrpcError;
        var started = _time.GetTimestamp();
        while (true)
        {
            var found = monitor.ExceptionsSince(since).Where(e => e.Time <= until).ToList();
            if (ExceptionMatch.IsComplete(found, traceId) || (!expectOne && found.Count > 0) || _time.GetElapsedTime(started) >= ExceptionWait)
            {
                return ExceptionMatch.Of(found, traceId, failure.OtherRequests);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _time);
        }
    }

    /// <summary>A dump, when configured, at most one per DumpMinInterval (writing one pauses the function).</summary>
    private async Task<JsonObject?> DumpAsync(RuntimeMonitor monitor, FailureContext failure)
    {
        if (_options.DumpOnFailure is not { } kind || failure.Trigger is FailureTrigger.Crash or FailureTrigger.NotReady)
        {
            return null;
        }

        var now = _time.GetTimestamp();
        if (_lastDump is { } last && _time.GetElapsedTime(last, now) < _options.DumpMinInterval)
        {
            return new JsonObject { ["kind"] = kind.ToString(), ["error"] = $"skipped: one dump per {_options.DumpMinInterval}" };
        }

        _lastDump = now;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2), _time);
        var dump = await monitor.WriteDumpAsync(_options.EffectiveDumpDirectory, kind, _options.MaxDumpBytes, timeout.Token);
        var written = new JsonObject { ["kind"] = kind.ToString(), ["path"] = dump.Path, ["bytes"] = dump.Bytes, ["error"] = dump.Error };
        // The id goes in the snapshot only when the upload is queued: the collector then knows to look for the bytes.
        if (dump.Path is { } path && _dumps is not null && DumpUploader.NewId() is var id && _dumps.Enqueue(id, path))
        {
            written["id"] = id;
        }

        return written;
    }

    private JsonObject ProcessState(FunctionInstance instance, int? exitCode)
    {
        var state = new JsonObject();
        if (instance.Process is not { } process)
        {
            return state;
        }

        state["pid"] = process.Id;
        state["uptimeSeconds"] = Math.Round((_time.GetUtcNow().UtcDateTime - instance.ProcessStart).TotalSeconds, 3);
        try
        {
            process.Refresh();
            if (process.HasExited)
            {
                state["exitCode"] = exitCode ?? process.ExitCode;
                return state;
            }

            state["rssBytes"] = process.WorkingSet64;
            state["cpuSeconds"] = Math.Round(process.TotalProcessorTime.TotalSeconds, 3);
            state["threads"] = process.Threads.Count;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Exited while we looked.
            state["exitCode"] = exitCode;
        }

        return state;
    }

    private JsonObject Environment(FunctionInstance instance)
    {
        var environment = new JsonObject();
        foreach (var (name, value) in instance.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            environment[name] = _redactor.EnvironmentVariable(name, value);
        }

        return environment;
    }

    private ExportLogsServiceRequest Export(LogRecord record) => new()
    {
        ResourceLogs =
        {
            new ResourceLogs
            {
                Resource = new OtlpResource { Attributes = { _resource } },
                ScopeLogs = { new ScopeLogs { Scope = new InstrumentationScope { Name = SidecarTracing.SourceName }, LogRecords = { record } } },
            },
        },
    };

    private static RepeatedField<KeyValue> ResourceAttributes(SidecarOptions options)
    {
        var attributes = new RepeatedField<KeyValue>();
        foreach (var (key, value) in SidecarTracing.Resource(options).Build().Attributes)
        {
            attributes.Add(new KeyValue
            {
                Key = key,
                Value = value switch
                {
                    long l => new AnyValue { IntValue = l },
                    int i => new AnyValue { IntValue = i },
                    _ => new AnyValue { StringValue = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty },
                },
            });
        }

        return attributes;
    }

    private static KeyValue Attribute(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static ulong UnixNanos(DateTime utc) => (ulong)(utc - DateTime.UnixEpoch).Ticks * 100;

    /// <summary>Safe to call more than once (the host stops it, then the container disposes it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _supervisor.Exited -= OnFunctionExited;
        _supervisor.Started -= OnFunctionStarted;
        _queue.Writer.TryComplete();
        await _worker.WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_exporter is not null)
        {
            await _exporter.DisposeAsync();
        }

        if (_dumps is not null)
        {
            await _dumps.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "Failure snapshot taken ({Trigger}), trace {TraceId}")]
    private partial void LogTaken(string trigger, ActivityTraceId traceId);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Error, Message = "Could not build a failure snapshot")]
    private partial void LogBuildFailed(Exception e);
}
