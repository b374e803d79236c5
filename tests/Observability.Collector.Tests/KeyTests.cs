using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace Observability.Collector.Tests;

/// <summary>
/// The keys: the write key may only ingest, the read key may only query (and read /metrics), the optional
/// metrics key may only read /metrics. A missing or unknown key is 401 (gRPC UNAUTHENTICATED), a key of another
/// scope 403 (gRPC PERMISSION_DENIED). The collector does not start without distinct, long write and read keys
/// and a usable database URL.
/// </summary>
public sealed class KeyTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const string UnknownKey = "not-a-key-of-this-collector-0123";
    private const string DatabaseUrl = "postgres://obs:secret@db.example:5432/obs";
    private const string Protobuf = "application/x-protobuf";

    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    // ---- ingest ----

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData(UnknownKey, HttpStatusCode.Unauthorized)]
    [InlineData(CollectorRunner.ReadKey, HttpStatusCode.Forbidden)]
    public async Task OTLP_HTTP_ingest_without_the_write_key_is_refused_and_stores_nothing(string? key, HttpStatusCode expected)
    {
        var marker = NewMarker();
        using var client = CollectorRunner.Client(_collector.OtlpHttpPort, key);

        using var traces = await client.PostAsync(new Uri("/v1/traces", UriKind.Relative), ProtobufContent(Traces(marker)));
        using var logs = await client.PostAsync(new Uri("/v1/logs", UriKind.Relative), ProtobufContent(Logs(marker)));

        Assert.Equal(expected, traces.StatusCode);
        Assert.Equal(expected, logs.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Bearer", traces.Headers.WwwAuthenticate.Single().Scheme);
        }

        Assert.Equal(0, await StoredAsync("spans", marker));
        Assert.Equal(0, await StoredAsync("logs", marker));
    }

    [Theory]
    [InlineData(null, StatusCode.Unauthenticated)]
    [InlineData(UnknownKey, StatusCode.Unauthenticated)]
    [InlineData(CollectorRunner.ReadKey, StatusCode.PermissionDenied)]
    public async Task OTLP_gRPC_ingest_without_the_write_key_is_refused_and_stores_nothing(string? key, StatusCode expected)
    {
        var marker = NewMarker();
        using var channel = GrpcChannel.ForAddress(_collector.GrpcEndpoint);

        var traces = await Assert.ThrowsAsync<RpcException>(async () => await new TraceService.TraceServiceClient(channel).ExportAsync(Traces(marker), Bearer(key)));
        var logs = await Assert.ThrowsAsync<RpcException>(async () => await new LogsService.LogsServiceClient(channel).ExportAsync(Logs(marker), Bearer(key)));

        Assert.Equal(expected, traces.StatusCode);
        Assert.Equal(expected, logs.StatusCode);
        Assert.Equal(0, await StoredAsync("spans", marker));
        Assert.Equal(0, await StoredAsync("logs", marker));
    }

    [Fact]
    public async Task The_write_key_may_ingest_over_HTTP_and_gRPC()
    {
        var marker = NewMarker();
        using var channel = GrpcChannel.ForAddress(_collector.GrpcEndpoint);

        using var http = await _collector.Ingest.PostAsync(new Uri("/v1/traces", UriKind.Relative), ProtobufContent(Traces(marker)));
        await new TraceService.TraceServiceClient(channel).ExportAsync(Traces(marker), Bearer(CollectorRunner.WriteKey));
        await new LogsService.LogsServiceClient(channel).ExportAsync(Logs(marker), Bearer(CollectorRunner.WriteKey));

        Assert.Equal(HttpStatusCode.OK, http.StatusCode);
        Assert.Equal(2, await StoredAsync("spans", marker));
        Assert.Equal(1, await StoredAsync("logs", marker));
    }

    [Fact]
    public async Task Each_of_several_comma_separated_write_keys_may_ingest()
    {
        const string NextKey = "next-write-key-after-rotation-0123";
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString, o => o.WriteKey = $"{CollectorRunner.WriteKey}, {NextKey}");
        var marker = NewMarker();

        foreach (var key in new[] { CollectorRunner.WriteKey, NextKey })
        {
            using var client = CollectorRunner.Client(collector.OtlpHttpPort, key);
            using var response = await client.PostAsync(new Uri("/v1/traces", UriKind.Relative), ProtobufContent(Traces(marker)));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(2, await StoredAsync("spans", marker));
    }

    [Fact]
    public async Task A_key_sent_with_another_scheme_than_Bearer_is_not_accepted()
    {
        using var client = CollectorRunner.Client(_collector.OtlpHttpPort, key: null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", CollectorRunner.WriteKey);

        using var response = await client.PostAsync(new Uri("/v1/traces", UriKind.Relative), ProtobufContent(Traces(NewMarker())));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    // ---- query and metrics (every endpoint against every key: AuthMatrixTests) ----

    [Fact]
    public async Task Each_of_several_comma_separated_metrics_keys_may_read_metrics_and_nothing_else()
    {
        const string NextKey = "next-metrics-key-after-rotation-0123";
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString, o => o.MetricsKey = $"{CollectorRunner.MetricsKey},{NextKey}");

        foreach (var key in new[] { CollectorRunner.MetricsKey, NextKey })
        {
            using var client = CollectorRunner.Client(collector.HttpPort, key);
            using var metrics = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
            using var traces = await client.GetAsync(new Uri("/api/v1/traces?service=checkout", UriKind.Relative));

            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, traces.StatusCode);
            Assert.Contains("need the read key", await traces.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_a_metrics_key_metrics_take_the_read_key_and_refuse_the_write_key()
    {
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString, o => o.MetricsKey = null);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(collector.HttpPort, "/metrics", CollectorRunner.ReadKey));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(collector.HttpPort, "/metrics", CollectorRunner.WriteKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(collector.HttpPort, "/metrics", CollectorRunner.MetricsKey));
    }

    [Fact]
    public async Task Healthz_needs_no_key()
    {
        using var client = CollectorRunner.Client(_collector.HttpPort, key: null);

        using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("ok", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    // ---- settings ----

    [Theory]
    [InlineData("no write key", null, CollectorRunner.ReadKey, DatabaseUrl, "OBS_WRITE_KEY")]
    [InlineData("an empty write key", "", CollectorRunner.ReadKey, DatabaseUrl, "OBS_WRITE_KEY")]
    [InlineData("a write key list of only commas", " , ,", CollectorRunner.ReadKey, DatabaseUrl, "OBS_WRITE_KEY")]
    [InlineData("no read key", CollectorRunner.WriteKey, null, DatabaseUrl, "OBS_READ_KEY")]
    [InlineData("a write key of 15 characters", "fifteen-chars-1", CollectorRunner.ReadKey, DatabaseUrl, "OBS_WRITE_KEY")]
    [InlineData("a read key of 15 characters", CollectorRunner.WriteKey, "fifteen-chars-1", DatabaseUrl, "OBS_READ_KEY")]
    [InlineData("a short key among rotated write keys", CollectorRunner.WriteKey + ",short", CollectorRunner.ReadKey, DatabaseUrl, "OBS_WRITE_KEY")]
    [InlineData("the same key for writing and reading", CollectorRunner.WriteKey, CollectorRunner.WriteKey, DatabaseUrl, "OBS_WRITE_KEY and OBS_READ_KEY")]
    [InlineData("a key in both lists", CollectorRunner.WriteKey + "," + CollectorRunner.ReadKey, CollectorRunner.ReadKey, DatabaseUrl, "OBS_WRITE_KEY and OBS_READ_KEY")]
    [InlineData("no database URL", CollectorRunner.WriteKey, CollectorRunner.ReadKey, null, "OBS_DATABASE_URL")]
    [InlineData("a blank database URL", CollectorRunner.WriteKey, CollectorRunner.ReadKey, "  ", "OBS_DATABASE_URL")]
    [InlineData("a URL whose host cannot be parsed", CollectorRunner.WriteKey, CollectorRunner.ReadKey, "postgres://obs:secret@:5432/obs", "OBS_DATABASE_URL")]
    [InlineData("a URL with a port that is not a number", CollectorRunner.WriteKey, CollectorRunner.ReadKey, "postgres://obs@db.example:port/obs", "OBS_DATABASE_URL")]
    [InlineData("neither a URL nor a connection string", CollectorRunner.WriteKey, CollectorRunner.ReadKey, "just some words", "OBS_DATABASE_URL")]
    [InlineData("a connection string with an unknown keyword", CollectorRunner.WriteKey, CollectorRunner.ReadKey, "Hots=db.example;Database=obs", "OBS_DATABASE_URL")]
    [InlineData("a connection string that names no host", CollectorRunner.WriteKey, CollectorRunner.ReadKey, "Database=obs;Username=obs", "OBS_DATABASE_URL")]
    public void Collector_refuses_to_start_with_a_bad_setting_and_names_it(string problem, string? writeKey, string? readKey, string? databaseUrl, string named)
    {
        var e = Assert.Throws<OptionsValidationException>(() => CollectorApp.ReadOptions(Configuration(writeKey, readKey, databaseUrl)));

        Assert.True(e.Message.Contains(named, StringComparison.Ordinal), $"{problem}: expected the message to name {named}, got: {e.Message}");
    }

    [Theory]
    [InlineData("a metrics key of 15 characters", "fifteen-chars-1", "OBS_METRICS_KEY")]
    [InlineData("a short key among rotated metrics keys", CollectorRunner.MetricsKey + ",short", "OBS_METRICS_KEY")]
    [InlineData("the read key as the metrics key", CollectorRunner.ReadKey, "OBS_READ_KEY and OBS_METRICS_KEY")]
    [InlineData("the write key among the metrics keys", CollectorRunner.MetricsKey + "," + CollectorRunner.WriteKey, "OBS_WRITE_KEY and OBS_METRICS_KEY")]
    public void Collector_refuses_a_bad_metrics_key_and_names_it(string problem, string metricsKey, string named)
    {
        var e = Assert.Throws<OptionsValidationException>(() => CollectorApp.ReadOptions(Configuration(CollectorRunner.WriteKey, CollectorRunner.ReadKey, DatabaseUrl, metricsKey)));

        Assert.True(e.Message.Contains(named, StringComparison.Ordinal), $"{problem}: expected the message to name {named}, got: {e.Message}");
    }

    [Fact]
    public void A_metrics_key_is_optional_and_read_from_OBS_METRICS_KEY()
    {
        Assert.Null(CollectorApp.ReadOptions(Configuration(CollectorRunner.WriteKey, CollectorRunner.ReadKey, DatabaseUrl)).MetricsKey);
        Assert.Equal(CollectorRunner.MetricsKey, CollectorApp.ReadOptions(Configuration(CollectorRunner.WriteKey, CollectorRunner.ReadKey, DatabaseUrl, CollectorRunner.MetricsKey)).MetricsKey);
    }

    [Fact]
    public void Collector_app_itself_refuses_to_build_without_a_write_key()
    {
        var e = Assert.Throws<OptionsValidationException>(() => CollectorApp.Build([], o =>
        {
            o.DatabaseUrl = DatabaseUrl;
            o.WriteKey = null;
            o.ReadKey = CollectorRunner.ReadKey;
        }));

        Assert.Contains("OBS_WRITE_KEY", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DatabaseUrl)]
    [InlineData("postgresql://obs@db.example/obs?sslmode=require")]
    [InlineData("Host=db.example;Port=5432;Database=obs;Username=obs;Password=secret")]
    public void Collector_accepts_two_distinct_long_keys_and_a_database_URL_or_connection_string(string databaseUrl)
    {
        var options = CollectorApp.ReadOptions(Configuration(CollectorRunner.WriteKey, CollectorRunner.ReadKey, databaseUrl));

        Assert.Equal(CollectorRunner.WriteKey, options.WriteKey);
        Assert.Equal(CollectorRunner.ReadKey, options.ReadKey);
        Assert.Equal(databaseUrl, options.DatabaseUrl);
    }

    // ---- helpers ----

    private static IConfiguration Configuration(string? writeKey, string? readKey, string? databaseUrl, string? metricsKey = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["OBS_WRITE_KEY"] = writeKey,
            ["OBS_READ_KEY"] = readKey,
            ["OBS_METRICS_KEY"] = metricsKey,
            ["OBS_DATABASE_URL"] = databaseUrl,
        };
        return new ConfigurationBuilder().AddInMemoryCollection(settings.Where(kv => kv.Value is not null)).Build();
    }

    private static async Task<HttpStatusCode> StatusAsync(int port, string path, string? key)
    {
        using var client = CollectorRunner.Client(port, key);
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        return response.StatusCode;
    }

    private static Metadata Bearer(string? key) => key is null ? [] : new Metadata { { "authorization", "Bearer " + key } };

    private static string NewMarker() => Guid.NewGuid().ToString("N");

    private static ulong NowNanos(int secondsAgo) => (ulong)(DateTime.UtcNow.AddSeconds(-secondsAgo) - DateTime.UnixEpoch).Ticks * 100;

    private static KeyValue Marker(string marker) => new() { Key = "test.case", Value = new AnyValue { StringValue = marker } };

    private static ExportTraceServiceRequest Traces(string marker) => new()
    {
        ResourceSpans =
        {
            new ResourceSpans
            {
                ScopeSpans =
                {
                    new ScopeSpans
                    {
                        Spans =
                        {
                            new Span
                            {
                                TraceId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16)),
                                SpanId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(8)),
                                Name = "keyed",
                                StartTimeUnixNano = NowNanos(2),
                                EndTimeUnixNano = NowNanos(1),
                                Attributes = { Marker(marker) },
                            },
                        },
                    },
                },
            },
        },
    };

    private static ExportLogsServiceRequest Logs(string marker) => new()
    {
        ResourceLogs =
        {
            new ResourceLogs
            {
                ScopeLogs =
                {
                    new ScopeLogs
                    {
                        LogRecords = { new LogRecord { TimeUnixNano = NowNanos(1), Body = new AnyValue { StringValue = "keyed " + marker }, Attributes = { Marker(marker) } } },
                    },
                },
            },
        },
    };

    private static ByteArrayContent ProtobufContent(IMessage message)
    {
        var content = new ByteArrayContent(message.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue(Protobuf);
        return content;
    }

    private async Task<long> StoredAsync(string table, string marker)
    {
        await using var conn = new NpgsqlConnection(database.ConnectionString);
        await conn.OpenAsync();
        var sql = table == "spans"
            ? "SELECT count(*) FROM spans WHERE attributes ->> 'test.case' = $1"
            : "SELECT count(*) FROM logs WHERE attributes ->> 'test.case' = $1";
        await using var cmd = new NpgsqlCommand(sql, conn) { Parameters = { new() { Value = marker } } };
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
