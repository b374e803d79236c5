using System.Diagnostics;
using System.Reflection;
using Observability.Otlp.Semantics;
using Observability.Sidecar.Configuration;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;

namespace Observability.Sidecar.Telemetry;

/// <summary>
/// The OpenTelemetry SDK pipeline that exports the sidecar's spans: the head sampler, a processor that keeps
/// failures and cold starts the head decision left out, then the SDK's batch
/// processor and OTLP/HTTP exporter (asynchronous and bounded, so a slow or absent collector never holds a
/// request; retries 429/502/503/504 honouring Retry-After; batches it could not deliver go to the disk spool
/// and are replayed). Its queue, drops and spool are read into the sidecar's metrics at each scrape.
/// </summary>
public sealed class SpanExport : IDisposable
{
    private const int MaxQueueSize = 8192;

    // The SDK keeps its batch processor's counts internal (pinned version; SpanExportTests fails if they move).
    private static readonly PropertyInfo? Received = Counter("ReceivedCount");
    private static readonly PropertyInfo? Processed = Counter("ProcessedCount");
    private static readonly PropertyInfo? Dropped = Counter("DroppedCount");

    private readonly FailuresAndColdStartsKept _kept;
    private readonly string? _spool;
    private readonly Task<TracerProvider> _provider;
    private BatchActivityExportProcessor? _batch;

    public SpanExport(SidecarOptions options, SidecarMetrics metrics)
    {
        _kept = new FailuresAndColdStartsKept(metrics);
        _spool = options.EffectiveOtlpEndpoint is null ? null : options.EffectiveSpoolDirectory;
        if (_spool is not null)
        {
            // The exporter's public constructor reads its experimental disk retry from the environment.
            Directory.CreateDirectory(_spool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            OwnEnvironment.Set("OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY", "disk");
            OwnEnvironment.Set("OTEL_DOTNET_EXPERIMENTAL_OTLP_DISK_RETRY_DIRECTORY_PATH", _spool);
        }

        // Building the SDK's pipeline is the slowest step of the sidecar's start (measured: about 45 ms, mostly
        // JIT), so it runs beside the host's own start; the proxy awaits Ready before its first span.
        _provider = Task.Run(() => Build(options));
        metrics.Registry.AddBeforeCollectCallback(() => Observe(metrics));
    }

    /// <summary>Completes when spans are being recorded and exported.</summary>
    public Task Ready => _provider;

    /// <summary>Whether the SDK's internal counters could be found (false would leave queue and drops unmeasured).</summary>
    internal static bool CountersFound => Received is not null && Processed is not null && Dropped is not null;

    private TracerProvider Build(SidecarOptions options)
    {
        var builder = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(SidecarTracing.Resource(options))
            .AddSource(SidecarTracing.SourceName)
            .SetSampler(new HeadSampler(options.SamplingRatio))
            .AddProcessor(_kept);
        if (options.EffectiveOtlpEndpoint is { } endpoint)
        {
            var exporterOptions = new OtlpExporterOptions
            {
                Protocol = OtlpExportProtocol.HttpProtobuf,
                Endpoint = new Uri(endpoint, "v1/traces"),
                Headers = options.EffectiveOtlpHeaderText,
            };
            if (options.EffectiveOtlpCertificate is { } certificate)
            {
                exporterOptions.HttpClientFactory = () => new HttpClient(new SocketsHttpHandler { SslOptions = ExportTls.ClientOptions(certificate) })
                {
                    Timeout = TimeSpan.FromMilliseconds(exporterOptions.TimeoutMilliseconds),
                };
            }

            var exporter = new OtlpTraceExporter(exporterOptions);
            _batch = new BatchActivityExportProcessor(exporter, MaxQueueSize, scheduledDelayMilliseconds: 200, exporterTimeoutMilliseconds: 10_000, maxExportBatchSize: 512);
            builder.AddProcessor(_batch);
        }

        return builder.Build()!;
    }

    private void Observe(SidecarMetrics metrics)
    {
        if (_batch is not null && CountersFound)
        {
            long received = (long)Received!.GetValue(_batch)!, processed = (long)Processed!.GetValue(_batch)!, dropped = (long)Dropped!.GetValue(_batch)!;
            metrics.ExportQueue.Set(received - processed - dropped);
            metrics.SpansDropped.IncTo(dropped);
            metrics.SpansExported.IncTo(processed);
        }

        metrics.SpoolBytes.WithLabels("traces").Set(_spool is not null && Directory.Exists(_spool)
            ? new DirectoryInfo(_spool).EnumerateFiles("*.blob", SearchOption.AllDirectories).Sum(f => f.Length)
            : 0);
    }

    private static PropertyInfo? Counter(string name) =>
        typeof(BatchExportProcessor<Activity>).GetProperty(name, BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>Exports what is buffered (bounded), as the sidecar stops.</summary>
    public void Flush() => _provider.GetAwaiter().GetResult().ForceFlush(5000);

    public void Dispose() => _provider.GetAwaiter().GetResult().Dispose();

    /// <summary>
    /// What the head decision (<see cref="HeadSampler"/>) cannot know at the start: whether the invocation fails or
    /// pays a cold start. Those are always exported, so each stands for itself alone (adjusted count 1, whatever its
    /// trace's threshold says), and one the head decision left out says why it is there. The rest left out is
    /// counted; a span left out is not recorded, so the batch processor skips it.
    /// </summary>
    private sealed class FailuresAndColdStartsKept(SidecarMetrics metrics) : BaseProcessor<Activity>
    {
        private static readonly object One = 1.0;

        public override void OnEnd(Activity data)
        {
            var reason = data.Kind != ActivityKind.Server ? null
                : data.Status == ActivityStatusCode.Error ? "error"
                : data.GetTagItem(FaasConventions.FaasColdStart) is true ? "coldstart"
                : null;
            if (reason is null)
            {
                if (!data.Recorded)
                {
                    metrics.SpansSampledOut.Inc();
                }

                return;
            }

            data.SetTag(ObsConventions.SamplingAdjustedCount, One);
            if (!data.Recorded)
            {
                data.SetTag(ObsConventions.SamplingKept, reason);
                data.ActivityTraceFlags |= ActivityTraceFlags.Recorded;
            }
        }
    }
}
