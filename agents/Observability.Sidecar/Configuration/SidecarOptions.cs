using System.ComponentModel.DataAnnotations;
using Observability.Sidecar.Diagnostics;

namespace Observability.Sidecar.Configuration;

/// <summary>
/// Sidecar settings, bound from the "Sidecar" configuration section: a JSON file (--config), environment
/// variables (Sidecar__Port) or the command line (--port). Every default is documented here and in docs/sidecar.md.
/// </summary>
public sealed class SidecarOptions : IValidatableObject
{
    public const string Section = "Sidecar";

    /// <summary>The function's name (faas.name, and service.name). Required.</summary>
    public string? FunctionName { get; set; }

    /// <summary>The function's version (faas.version). Default "0".</summary>
    public string FunctionVersion { get; set; } = "0";

    /// <summary>This instance's id (faas.instance). Default: host name and sidecar process id.</summary>
    public string Instance { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>Memory limit of the function in bytes, when known (faas.max_memory).</summary>
    public long? MaxMemoryBytes { get; set; }

    /// <summary>Address the proxy and admin ports bind to. Default 127.0.0.1; 0.0.0.0 in containers.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>Port clients call instead of the function. Default 8081.</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 8081;

    /// <summary>Port of /metrics, /healthz and /readyz, apart from the proxied traffic. Default 9464.</summary>
    [Range(1, 65535)]
    public int AdminPort { get; set; } = 9464;

    /// <summary>Port the function listens on (given to a supervised function as PORT). Default 8080.</summary>
    [Range(1, 65535)]
    public int UpstreamPort { get; set; } = 8080;

    /// <summary>
    /// HTTP/2 without TLS (h2c, prior knowledge) on the proxy port and to the function, as gRPC functions speak.
    /// Default false: HTTP/1.1, with WebSocket upgrades passed through.
    /// </summary>
    public bool Http2 { get; set; }

    /// <summary>
    /// Run socket completions and Kestrel's request handling on the I/O threads rather than handing each one to
    /// the thread pool: fewer thread switches per proxied request. Safe because the sidecar's request path never
    /// blocks. Default true; the function never inherits it.
    /// </summary>
    public bool InlineIo { get; set; } = true;

    /// <summary>Host of the function. Default 127.0.0.1.</summary>
    public string UpstreamHost { get; set; } = "127.0.0.1";

    /// <summary>Supervise mode: the command that starts the function (everything after "--"). Empty: attach mode.</summary>
    public IList<string> Command { get; } = [];

    /// <summary>Extra environment variables for a supervised function, on top of the sidecar's own (which it inherits).</summary>
    public IDictionary<string, string> FunctionEnvironment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>How long a request waits for a starting function to accept connections. Default 30 s.</summary>
    public TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the function may take to answer before the sidecar answers 504. Default 30 s.</summary>
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Scale to zero: stop the function after this long without requests; the next request starts it cold. Default off.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>First delay before restarting a crashed function; doubles per crash up to 30 s. Default 500 ms.</summary>
    public TimeSpan RestartBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Lines of the function's stdout/stderr kept for failure snapshots. Default 200.</summary>
    [Range(0, 100_000)]
    public int LogLines { get; set; } = 200;

    /// <summary>
    /// Request header that marks a warm-up ping (traced with obs.warmup=true, counted apart from invocations) when
    /// its value is <see cref="WarmUpToken"/>. Default X-Obs-Warmup.
    /// </summary>
    public string WarmUpHeader { get; set; } = "X-Obs-Warmup";

    /// <summary>
    /// The secret a warm-up ping must carry as the value of <see cref="WarmUpHeader"/> (at least 16 characters). A
    /// request with a missing or wrong value is an ordinary invocation. Default none: no request is a warm-up ping.
    /// </summary>
    public string? WarmUpToken { get; set; }

    /// <summary>
    /// Where the warm-up scheduler reaches this sidecar, exported as the resource attribute obs.warmup.url (only with a
    /// <see cref="WarmUpToken"/>) so that the scheduler finds the function. Default: the proxy's own listen URL,
    /// http://ListenAddress:Port/ (the host name when listening on every address).
    /// </summary>
    public Uri? AdvertiseUrl { get; set; }

    /// <summary>
    /// Route templates ("/orders/{id}", "/files/{*path}"): a matching request's span is named "METHOD template"
    /// with http.route set; any other is named by its method alone, so span names stay few. First match wins. Default none.
    /// </summary>
    public IList<string> Routes { get; } = [];

    /// <summary>OTLP/HTTP base URL of the collector (or any OTLP endpoint). Default: OTEL_EXPORTER_OTLP_ENDPOINT; none: spans are not exported.</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>Headers sent with every export, as "k=v,k2=v2". Default: OTEL_EXPORTER_OTLP_HEADERS (e.g. Authorization=Bearer KEY).</summary>
    public string? OtlpHeaders { get; set; }

    /// <summary>
    /// PEM file of the CA certificate(s) trusted for an https OtlpEndpoint instead of the system's roots (a collector
    /// with a private CA). Default: OTEL_EXPORTER_OTLP_CERTIFICATE; none: the system's trust store.
    /// </summary>
    public string? OtlpCertificate { get; set; }

    /// <summary>
    /// Folder where spans and failure snapshots that could not be exported wait, replayed as soon as the collector
    /// answers, also by the next run of the sidecar. Created owner-only (0700). Default: under the temp folder,
    /// obs-sidecar-spool/FUNCTION-HOST-PORT (function name, host name, proxy port): the same for every run of this
    /// sidecar, apart from any other function's or port's. "" turns it off.
    /// </summary>
    public string? SpoolDirectory { get; set; }

    /// <summary>Attach mode: the function's process id. Unset: the process listening on UpstreamPort is found through /proc.</summary>
    public int? Pid { get; set; }

    /// <summary>
    /// Share of traces exported, 0 to 1, decided by trace id (so every sidecar keeps or drops the same traces).
    /// Errors, cold starts and their records are always exported. Default 1 (all).
    /// </summary>
    [Range(0.0, 1.0)]
    public double SamplingRatio { get; set; } = 1.0;

    /// <summary>Bytes of each request and response body kept for failure snapshots. Default 4096; 0 keeps none.</summary>
    [Range(0, 1_048_576)]
    public int SnapshotBodyBytes { get; set; } = 4096;

    /// <summary>
    /// Keep bodies the redactor cannot read (compressed, binary content types, not UTF-8) in snapshots, as base64 and
    /// unredacted. Default false: the snapshot says the body was left out, why, and its size.
    /// </summary>
    public bool SnapshotBinaryBodies { get; set; }

    /// <summary>Failure snapshots taken per minute at most; more are counted and dropped. Default 30; 0 turns snapshots off.</summary>
    [Range(0, 10_000)]
    public int MaxSnapshotsPerMinute { get; set; } = 30;

    /// <summary>Undelivered snapshots kept on disk at most; more are counted and dropped. Default 1000.</summary>
    [Range(1, 1_000_000)]
    public int SnapshotSpoolMaxFiles { get; set; } = 1000;

    /// <summary>Header names redacted in snapshots on top of Authorization, Proxy-Authorization, Cookie, Set-Cookie and secret-looking names.</summary>
    public IList<string> RedactHeaders { get; } = [];

    /// <summary>Regular expressions whose matches are redacted from every captured text (bodies, URLs, logs, environment).</summary>
    public IList<string> RedactPatterns { get; } = [];

    /// <summary>.NET functions: read the runtime's events through its diagnostics port (startup profile, exceptions, GC). Default true.</summary>
    public bool RuntimeDiagnostics { get; set; } = true;

    /// <summary>.NET functions: write a dump of this kind on a failure (Mini, Triage, WithHeap, Full). Default: none.</summary>
    public DumpKind? DumpOnFailure { get; set; }

    /// <summary>Where dumps go (created owner-only). Default: the "dumps" folder in the spool folder.</summary>
    public string? DumpDirectory { get; set; }

    /// <summary>A dump larger than this is deleted and the snapshot says so. Default 256 MiB.</summary>
    [Range(1, long.MaxValue)]
    public long MaxDumpBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>At most one dump per this interval: writing one pauses the function. Default 5 minutes.</summary>
    public TimeSpan DumpMinInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Upload each dump to the collector (PUT /v1/dumps/{id} on OtlpEndpoint, with OtlpHeaders), in the background, so
    /// that it can be downloaded with the snapshot. Default true; false keeps dumps on this host only.
    /// </summary>
    public bool UploadDumps { get; set; } = true;

    /// <summary>
    /// Keep a dump's file after the collector has committed it. Default false: a dump holds the function's memory
    /// (secrets, request bodies), so a second copy on every function host is exposure for no gain, and it fills the host's
    /// (often small, ephemeral) disk. A dump that was not uploaded always stays.
    /// </summary>
    public bool KeepUploadedDumps { get; set; }

    /// <summary>How long one upload attempt of a dump may take before it is cut off and retried (4 attempts). Default 5 minutes.</summary>
    public TimeSpan DumpUploadTimeout { get; set; } = TimeSpan.FromMinutes(5);

    public bool Supervises => Command.Count > 0;

    /// <summary>What obs.warmup.url says: <see cref="AdvertiseUrl"/>, else the proxy's listen URL; null without a warm-up token.</summary>
    public Uri? EffectiveAdvertiseUrl => string.IsNullOrEmpty(WarmUpToken) ? null
        : AdvertiseUrl ?? new Uri($"http://{(ListenAddress is "0.0.0.0" or "::" ? Environment.MachineName : ListenAddress.Contains(':', StringComparison.Ordinal) ? $"[{ListenAddress}]" : ListenAddress)}:{Port}/");

    public string EffectiveDumpDirectory => DumpDirectory
        ?? Path.Combine(EffectiveSpoolDirectory ?? Path.Combine(Path.GetTempPath(), "obs-sidecar-spool", SpoolName), "dumps");

    public Uri? EffectiveOtlpEndpoint => OtlpEndpoint
        ?? (Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 } env ? new Uri(env) : null);

    /// <summary>OtlpHeaders, or else OTEL_EXPORTER_OTLP_HEADERS, as written: "k=v,k2=v2".</summary>
    public string? EffectiveOtlpHeaderText => OtlpHeaders ?? Environment.GetEnvironmentVariable(OtlpHeadersVariable);

    /// <summary>The export headers parsed as the OpenTelemetry spec says: k=v pairs, comma-separated, values percent-encoded.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> EffectiveOtlpHeaders =>
        [.. HeaderPairs(EffectiveOtlpHeaderText)
            .Select(pair => pair.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .Select(kv => KeyValuePair.Create(kv[0].Trim(), Uri.UnescapeDataString(kv[1].Trim())))];

    public string? EffectiveOtlpCertificate => OtlpCertificate
        ?? (Environment.GetEnvironmentVariable(Telemetry.ExportTls.CertificateVariable) is { Length: > 0 } file ? file : null);

    public string? EffectiveSpoolDirectory => SpoolDirectory switch
    {
        null => Path.Combine(Path.GetTempPath(), "obs-sidecar-spool", SpoolName),
        "" => null,
        var dir => dir,
    };

    /// <summary>Where undelivered snapshots wait: in the spool, or a folder of their own when the span spool is off.</summary>
    public string SnapshotSpoolDirectory => EffectiveSpoolDirectory is { } spool
        ? Path.Combine(spool, "snapshots")
        : Path.Combine(Path.GetTempPath(), "obs-sidecar-snapshots", SpoolName);

    /// <summary>
    /// Names the default spool folders: stable across restarts (unlike Instance, which holds the process id), so a
    /// sidecar killed during an outage is replayed by its next run; distinct per function and proxy port on a host.
    /// </summary>
    private string SpoolName => string.Join('_', $"{FunctionName}-{Environment.MachineName}-{Port}".Split(Path.GetInvalidFileNameChars()));

    private const string OtlpHeadersVariable = "OTEL_EXPORTER_OTLP_HEADERS";

    private const int MinWarmUpTokenLength = 16;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(FunctionName))
        {
            yield return new ValidationResult("Sidecar:FunctionName (--name) is required: the function's name as it should appear in traces.", [nameof(FunctionName)]);
        }

        if (Port == AdminPort || Port == UpstreamPort || AdminPort == UpstreamPort)
        {
            yield return new ValidationResult($"Sidecar:Port ({Port}), Sidecar:AdminPort ({AdminPort}) and Sidecar:UpstreamPort ({UpstreamPort}) must all differ.", [nameof(Port)]);
        }

        if (IdleTimeout is { } idle && idle <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Sidecar:IdleTimeout (--idle-timeout) must be positive, or unset to keep the function running.", [nameof(IdleTimeout)]);
        }

        if (IdleTimeout is not null && !Supervises)
        {
            yield return new ValidationResult("Sidecar:IdleTimeout (--idle-timeout) needs supervise mode (a command after --): the sidecar can only stop and start a function it launched.", [nameof(IdleTimeout)]);
        }

        if (Pid is not null && Supervises)
        {
            yield return new ValidationResult("Sidecar:Pid (--pid) is for attach mode; with a command after -- the sidecar starts the function itself.", [nameof(Pid)]);
        }

        if (WarmUpToken is { } token && (token.Length < MinWarmUpTokenLength || string.IsNullOrWhiteSpace(token)))
        {
            yield return new ValidationResult($"Sidecar:WarmUpToken (--warmup-token) must be at least {MinWarmUpTokenLength} characters: a short token can be guessed.", [nameof(WarmUpToken)]);
        }

        foreach (var route in Routes)
        {
            if (Proxy.RouteTable.Problem(route) is { } routeProblem)
            {
                yield return new ValidationResult($"Sidecar:Routes (--route): \"{route}\" {routeProblem}.", [nameof(Routes)]);
            }
        }

        foreach (var pattern in RedactPatterns)
        {
            if (!IsValidRegex(pattern))
            {
                yield return new ValidationResult($"Sidecar:RedactPatterns: \"{pattern}\" is not a valid regular expression.", [nameof(RedactPatterns)]);
            }
        }

        // The exporter would reject them only once the span pipeline is built, beside the host's start.
        if (HeaderPairs(EffectiveOtlpHeaderText).FirstOrDefault(pair => pair.IndexOf('=', StringComparison.Ordinal) <= 0) is { } bad)
        {
            var source = OtlpHeaders is null ? OtlpHeadersVariable : "Sidecar:OtlpHeaders (--otlp-headers)";
            yield return new ValidationResult($"{source}: \"{bad}\" is not a name=value pair; give comma-separated pairs, e.g. \"Authorization=Bearer KEY,X-Tenant=a\".", [nameof(OtlpHeaders)]);
        }

        if (EffectiveOtlpCertificate is { } certificate && Telemetry.ExportTls.Problem(certificate) is { } problem)
        {
            var source = OtlpCertificate is null ? Telemetry.ExportTls.CertificateVariable : "Sidecar:OtlpCertificate (--otlp-certificate)";
            yield return new ValidationResult($"{source}: {problem}.", [nameof(OtlpCertificate)]);
        }

        if (AdvertiseUrl is { } advertised && (!advertised.IsAbsoluteUri || (advertised.Scheme != Uri.UriSchemeHttp && advertised.Scheme != Uri.UriSchemeHttps)))
        {
            yield return new ValidationResult("Sidecar:AdvertiseUrl (--advertise-url) must be an absolute http(s) URL where the warm-up scheduler reaches this sidecar, e.g. http://orders-1:8081/.", [nameof(AdvertiseUrl)]);
        }

        if (DumpUploadTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Sidecar:DumpUploadTimeout must be positive, e.g. 00:05:00.", [nameof(DumpUploadTimeout)]);
        }

        if (OtlpEndpoint is { } endpoint && !endpoint.IsAbsoluteUri)
        {
            yield return new ValidationResult("Sidecar:OtlpEndpoint must be an absolute http(s) URL, e.g. http://collector:4318.", [nameof(OtlpEndpoint)]);
        }
    }

    private static string[] HeaderPairs(string? headers) =>
        (headers ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool IsValidRegex(string pattern)
    {
        try
        {
            _ = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
