using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Trace.V1;
using static Observability.Testing.OtlpFactory;

namespace Observability.Collector.Tests;

/// <summary>PostgreSQL stops and starts again under ingest: clients get retryable answers, and every acknowledged span is stored exactly once.</summary>
public sealed class DatabaseRestartTests : IAsyncLifetime
{
    private PostgresServer _server = null!;
    private string _database = string.Empty;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        _database = await _server.CreateDatabaseAsync("restart");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Every_acknowledged_span_is_stored_once_after_postgres_restarts()
    {
        await using var collector = await CollectorRunner.StartAsync(_database);
        var acknowledged = new ConcurrentDictionary<string, int>();
        var retryable = 0;
        var stop = new CancellationTokenSource();

        async Task ClientAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var request = ManyTraces("restart", "restart-fn", 20);
                // An OTLP client: retry the same request until it is acknowledged.
                for (var attempt = 0; ; attempt++)
                {
                    using var response = await collector.Ingest.PostAsync("/v1/traces", Protobuf(request));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        foreach (var span in request.ResourceSpans[0].ScopeSpans[0].Spans)
                        {
                            acknowledged[Convert.ToHexString(span.TraceId.Span)] = 1;
                        }

                        break;
                    }

                    Assert.True(
                        response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests,
                        $"expected a retryable answer, got {(int)response.StatusCode}");
                    Assert.NotNull(response.Headers.RetryAfter);
                    Interlocked.Increment(ref retryable);
                    Assert.True(attempt < 400, "the collector never recovered");
                    await Task.Delay(50);
                }
            }
        }

        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(ClientAsync)).ToArray();
        await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count), n => n >= 200, what: "traffic before the restart");
        await _server.StopAsync();
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref retryable)), n => n >= 4, what: "retryable answers while PostgreSQL is down");
        await _server.StartAgainAsync();
        var afterRestart = acknowledged.Count;
        await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count), n => n >= afterRestart + 200, TimeSpan.FromSeconds(60), "traffic after the restart");
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        Assert.Equal(acknowledged.Count, await Sql.ScalarAsync<long>(_database, "SELECT count(*) FROM spans"));
        Assert.Equal(acknowledged.Count, await Sql.ScalarAsync<long>(_database, "SELECT count(DISTINCT trace_id) FROM spans"));
        var metrics = await collector.Query.GetStringAsync("/metrics");
        Assert.True(MetricsText.Value(metrics, "obs_collector_dropped_total{signal=\"spans\",reason=\"storage_unavailable\"}") > 0);
    }

    [Fact]
    public async Task Grpc_export_while_postgres_is_down_is_unavailable_with_retry_info()
    {
        await using var collector = await CollectorRunner.StartAsync(_database);
        await _server.StopAsync();
        using var channel = GrpcChannel.ForAddress(collector.GrpcEndpoint);
        var client = new TraceService.TraceServiceClient(channel);

        var e = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(
            ManyTraces("grpc-down", null, 5),
            new Metadata { { "authorization", "Bearer " + CollectorRunner.WriteKey } }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        var details = Google.Rpc.Status.Parser.ParseFrom(e.Trailers.GetValueBytes("grpc-status-details-bin"));
        var retry = details.Details.Single().Unpack<Google.Rpc.RetryInfo>();
        Assert.Equal(TimeSpan.FromSeconds(1), retry.RetryDelay.ToTimeSpan());
        await _server.StartAgainAsync();
    }
}
