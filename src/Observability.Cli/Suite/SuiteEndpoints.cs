using System.Text.Json;
using Spectre.Console;

namespace Observability.Cli.Suite;

/// <summary>Where the running suite listens, and its keys: what `obs up` prints as a table or as JSON.</summary>
internal sealed record SuiteEndpoints
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public required string Ui { get; init; }

    public required string OtlpGrpc { get; init; }

    public required string OtlpHttp { get; init; }

    public required string Api { get; init; }

    public required string Jaeger { get; init; }

    public required string Metrics { get; init; }

    public string? Hangfire { get; init; }

    public string? Database { get; init; }

    public string? WriteKey { get; init; }

    public string? ReadKey { get; init; }

    public string? MetricsKey { get; init; }

    public string? WarmUpToken { get; init; }

    /// <summary>The same addresses with no key, for a file others on the machine may read.</summary>
    public SuiteEndpoints WithoutKeys() => this with { WriteKey = null, ReadKey = null, MetricsKey = null, WarmUpToken = null };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The table `obs up` prints; callers add rows of their own (the demo's functions and Prometheus) after.</summary>
    public Table ToTable()
    {
        var table = new Table().AddColumns("What", "Where");
        table.AddRow("Web UI (any user name, the read key as password)", Ui);
        table.AddRow("OTLP/gRPC", OtlpGrpc);
        table.AddRow("OTLP/HTTP", OtlpHttp + "/v1/traces, /v1/logs");
        table.AddRow("Query API", Api);
        table.AddRow("Jaeger API (Grafana)", Jaeger);
        table.AddRow("Prometheus metrics", Metrics);
        table.AddRow("Warm-up scheduler (Hangfire, read key)", Hangfire ?? "(not started: no warm-up token)");
        table.AddRow("PostgreSQL", Markup.Escape(Database ?? "(given by OBS_DATABASE_URL)"));
        table.AddRow("Write key (ingest)", WriteKey ?? string.Empty);
        table.AddRow("Read key (queries)", ReadKey ?? string.Empty);
        table.AddRow("Metrics key (/metrics only)", MetricsKey ?? "(none: /metrics takes the read key)");
        table.AddRow("Warm-up token (sidecars' --warmup-token)", WarmUpToken ?? "(none: no request is a warm-up ping)");
        return table;
    }
}
