using System.ComponentModel.DataAnnotations;
using Observability.Hosting;

namespace Observability.Collector.Configuration;

/// <summary>
/// Collector settings. Bound from the "Collector" configuration section (appsettings, or environment
/// variables such as <c>Collector__HttpPort</c>); the three settings every deployment must give have
/// short environment names of their own: <c>OBS_DATABASE_URL</c>, <c>OBS_WRITE_KEY</c>, <c>OBS_READ_KEY</c> (and the
/// optional <c>OBS_METRICS_KEY</c>).
/// </summary>
public sealed class CollectorOptions : IValidatableObject
{
    public const string Section = "Collector";

    /// <summary>PostgreSQL, as a postgres:// URL or an Npgsql connection string. Env: OBS_DATABASE_URL. Required.</summary>
    public string? DatabaseUrl { get; set; }

    /// <summary>Bearer key(s) that may ingest, comma-separated for rotation. Env: OBS_WRITE_KEY. Required.</summary>
    public string? WriteKey { get; set; }

    /// <summary>Bearer key(s) that may query, comma-separated for rotation; they may read /metrics too. Env: OBS_READ_KEY. Required.</summary>
    public string? ReadKey { get; set; }

    /// <summary>
    /// Bearer key(s) that may read /metrics and nothing else, comma-separated for rotation: the credential to give
    /// Prometheus, which then cannot read traces or snapshots. Env: OBS_METRICS_KEY. Optional: without it,
    /// /metrics takes the read key only.
    /// </summary>
    public string? MetricsKey { get; set; }

    /// <summary>
    /// PEM file with the certificate every port serves over TLS (the server certificate first, then any
    /// intermediates). Set together with <see cref="TlsKeyFile"/>; unset (the default): no TLS.
    /// </summary>
    public string? TlsCertificateFile { get; set; }

    /// <summary>PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1, not encrypted). Set together with <see cref="TlsCertificateFile"/>.</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>Address the three ports bind to. Default 127.0.0.1; 0.0.0.0 in containers.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>OTLP/gRPC port. Default 4317.</summary>
    [Range(0, 65535)]
    public int OtlpGrpcPort { get; set; } = 4317;

    /// <summary>OTLP/HTTP port. Default 4318.</summary>
    [Range(0, 65535)]
    public int OtlpHttpPort { get; set; } = 4318;

    /// <summary>Query API, Jaeger API and /metrics port. Default 8080.</summary>
    [Range(0, 65535)]
    public int HttpPort { get; set; } = 8080;

    /// <summary>Largest request body accepted, after decompression. Default 20 MiB (the OTLP spec's suggestion).</summary>
    [Range(1024, int.MaxValue)]
    public int MaxRequestBodyBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>
    /// Largest dump a sidecar may upload (PUT /v1/dumps/{id}); a larger one is refused with 413 and counted. Default
    /// 512 MiB: twice the sidecar's own default MaxDumpBytes, so every dump a sidecar keeps by default is taken, with room
    /// for a WithHeap dump of a mid-size service; full dumps of large processes (gigabytes) belong on a disk, not in PostgreSQL.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long MaxDumpBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Spans and log records waiting to be written before new requests are refused (429). Default 200,000.</summary>
    [Range(1, int.MaxValue)]
    public int QueueCapacity { get; set; } = 200_000;

    /// <summary>Most rows written in one COPY transaction. Default 10,000.</summary>
    [Range(1, 1_000_000)]
    public int BatchMaxRows { get; set; } = 10_000;

    /// <summary>How long a writer waits for a batch to fill once it has some rows. Default 5 ms.</summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Concurrent writers, each with its own database connection. Default 2.</summary>
    [Range(1, 64)]
    public int Writers { get; set; } = 2;

    /// <summary>Days of spans and logs kept; older day partitions are dropped whole. Default 7.</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 7;

    /// <summary>How far in the future a timestamp may be before it is rejected. Default 1 hour.</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Retry-After sent with 429/503. Default 1 s.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// GIN indexes (jsonb_path_ops) on span attributes and resource, created at start when true and dropped when
    /// false, so that attribute filters find a few spans among millions in milliseconds. They cost ingest: measured
    /// 35,260 spans/s end to end without them and 22,303 with them on the same machine (docs/benchmarks.md). Default
    /// false: an attribute filter then scans the spans of the searched time range (bounded by MaxQueryRange and
    /// QueryTimeout), which the service, name and function filters narrow through their own indexes.
    /// </summary>
    public bool AttributeIndex { get; set; }

    /// <summary>Statement timeout on the query API's database connections; a query past it is answered 504. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest time range one trace or snapshot search may cover; a longer one is refused (400). Default 7 days.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan MaxQueryRange { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Results a search returns when it gives no limit. Default 20.</summary>
    [Range(1, 10_000)]
    public int DefaultQueryLimit { get; set; } = 20;

    /// <summary>Largest limit a search may ask for; a larger one is refused (400). Default 1,000.</summary>
    [Range(1, 10_000)]
    public int MaxQueryLimit { get; set; } = 1000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(DatabaseUrl))
        {
            yield return new ValidationResult("OBS_DATABASE_URL (Collector:DatabaseUrl) is not set: give a postgres:// URL or an Npgsql connection string.", [nameof(DatabaseUrl)]);
        }
        else if (DatabaseUrls.TryToConnectionString(DatabaseUrl, out _) is { } error)
        {
            yield return new ValidationResult($"OBS_DATABASE_URL (Collector:DatabaseUrl) is not usable: {error}", [nameof(DatabaseUrl)]);
        }

        foreach (var error in ValidateKeys())
        {
            yield return error;
        }

        if (string.IsNullOrWhiteSpace(TlsCertificateFile) != string.IsNullOrWhiteSpace(TlsKeyFile))
        {
            var missing = string.IsNullOrWhiteSpace(TlsKeyFile) ? nameof(TlsKeyFile) : nameof(TlsCertificateFile);
            yield return new ValidationResult($"Collector:{missing} is not set: TLS needs both Collector:TlsCertificateFile and Collector:TlsKeyFile.", [missing]);
        }

        if (BatchLinger < TimeSpan.Zero || BatchLinger > TimeSpan.FromSeconds(1))
        {
            yield return new ValidationResult("Collector:BatchLinger must be between 0 and 1 second.", [nameof(BatchLinger)]);
        }
    }

    private IEnumerable<ValidationResult> ValidateKeys()
    {
        (string Name, string Env, IReadOnlyList<string> Keys, bool Required)[] scopes =
        [
            (nameof(WriteKey), "OBS_WRITE_KEY", ApiKeys.Parse(WriteKey), true),
            (nameof(ReadKey), "OBS_READ_KEY", ApiKeys.Parse(ReadKey), true),
            (nameof(MetricsKey), "OBS_METRICS_KEY", ApiKeys.Parse(MetricsKey), false),
        ];
        for (var i = 0; i < scopes.Length; i++)
        {
            var (name, env, keys, required) = scopes[i];
            if (keys.Count == 0 && required)
            {
                yield return new ValidationResult($"{env} (Collector:{name}) is not set: the collector does not run without keys.", [name]);
            }
            else if (keys.Any(k => k.Length < 16))
            {
                yield return new ValidationResult($"{env} (Collector:{name}) holds a key shorter than 16 characters: use a long random key.", [name]);
            }

            for (var j = i + 1; j < scopes.Length; j++)
            {
                if (keys.Intersect(scopes[j].Keys).Any())
                {
                    yield return new ValidationResult($"{env} and {scopes[j].Env} share a key: give each scope keys of its own, so that a key can do only what its scope allows.", [name]);
                }
            }
        }
    }
}

internal static class ApiKeys
{
    public static IReadOnlyList<string> Parse(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
