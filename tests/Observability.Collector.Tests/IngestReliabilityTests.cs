using System.Net;
using Npgsql;
using Observability.Collector.Storage;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Trace.V1;
using static Observability.Testing.OtlpFactory;

namespace Observability.Collector.Tests;

/// <summary>Acknowledged means stored, once: under concurrency, retries, and a database restart.</summary>
public sealed class IngestReliabilityTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Many_clients_at_once_store_exact_counts()
    {
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString);
        const int Clients = 12, RequestsEach = 15, SpansEach = 40;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async c =>
        {
            for (var r = 0; r < RequestsEach; r++)
            {
                using var response = await collector.Ingest.PostAsync("/v1/traces", Protobuf(ManyTraces("concurrent", "conc-fn", SpansEach)));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }));

        Assert.Equal(Clients * RequestsEach * SpansEach, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM spans WHERE service_name = 'concurrent'"));
        Assert.Equal(Clients * RequestsEach * SpansEach, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT invocations::bigint FROM functions WHERE function_name = 'conc-fn'"));
    }

    [Fact]
    public async Task Retried_requests_are_stored_once_and_counted_once()
    {
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString);
        var request = ManyTraces("retried", "retry-fn", 25);
        for (var i = 0; i < 3; i++)
        {
            using var again = await collector.Ingest.PostAsync("/v1/traces", Protobuf(request));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        // The same request from several clients at once can land in one batch.
        await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            using var response = await collector.Ingest.PostAsync("/v1/traces", Protobuf(request));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }));

        Assert.Equal(25, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM spans WHERE service_name = 'retried'"));
        Assert.Equal(25, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT invocations::bigint FROM functions WHERE function_name = 'retry-fn'"));
        var metrics = await collector.Query.GetStringAsync("/metrics");
        Assert.Equal(25, MetricsText.Value(metrics, "faas_invocations_total{function=\"retry-fn\",version=\"1\",trigger=\"http\"}"));
        Assert.Equal(8 * 25, MetricsText.Value(metrics, "obs_collector_duplicates_total{signal=\"spans\"}"));
    }

    [Fact]
    public async Task Retried_logs_are_stored_once()
    {
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString);
        var record = new OpenTelemetry.Proto.Logs.V1.LogRecord
        {
            TimeUnixNano = Nanos(DateTime.UtcNow),
            TraceId = NewTraceId(),
            SpanId = NewSpanId(),
            SeverityNumber = OpenTelemetry.Proto.Logs.V1.SeverityNumber.Error,
            EventName = "obs.failure_snapshot",
            Body = new OpenTelemetry.Proto.Common.V1.AnyValue { StringValue = "boom" },
        };
        for (var i = 0; i < 3; i++)
        {
            using var response = await collector.Ingest.PostAsync("/v1/logs", Protobuf(Logs("logger", record)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM logs WHERE service_name = 'logger'"));
        Assert.Equal("\"boom\"", await Sql.ScalarAsync<string>(database.ConnectionString, "SELECT body::text FROM logs WHERE trace_id = $1", record.TraceId.ToByteArray()));
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_retry_after_and_counts_the_refusal()
    {
        // A long linger holds the first request's rows in the queue while the second arrives.
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString, o =>
        {
            o.QueueCapacity = 100;
            o.BatchLinger = TimeSpan.FromSeconds(1);
            o.Writers = 1;
        });
        var first = collector.Ingest.PostAsync("/v1/traces", Protobuf(ManyTraces("full", null, 60)));
        await Poll.UntilAsync(() => collector.Query.GetStringAsync("/metrics"), m => MetricsText.Value(m, "obs_collector_queue_depth") >= 60, what: "the first request to be queued");

        using var second = await collector.Ingest.PostAsync("/v1/traces", Protobuf(ManyTraces("full", null, 60)));
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), second.Headers.RetryAfter?.Delta);
        var status = Google.Rpc.Status.Parser.ParseFrom(await second.Content.ReadAsByteArrayAsync());
        Assert.Contains("queue is full", status.Message, StringComparison.Ordinal);

        using var firstResponse = await first;
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        var metrics = await collector.Query.GetStringAsync("/metrics");
        Assert.Equal(60, MetricsText.Value(metrics, "obs_collector_dropped_total{signal=\"spans\",reason=\"queue_full\"}"));
        Assert.Equal(60, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM spans WHERE service_name = 'full'"));
    }

    [Fact]
    public async Task Two_replicas_starting_together_share_one_schema()
    {
        var server = await PostgresServer.Shared;
        var fresh = await server.CreateDatabaseAsync("replicas");
        // Force the overlap: an empty schema_migrations table, locked by this test, stops each replica's
        // migration at its first read of it (or before, at the migration lock). Once both are waiting, the lock
        // goes and both go on at the same moment: without the migration lock both would find no step applied
        // and both would create the schema, and one start would fail.
        await using var holder = new NpgsqlConnection(fresh);
        await holder.OpenAsync();
        await using (var create = new NpgsqlCommand(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", holder))
        {
            await create.ExecuteNonQueryAsync();
        }

        var tx = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE", holder, tx))
        {
            await hold.ExecuteNonQueryAsync();
        }

        var starting = new[] { CollectorRunner.StartAsync(fresh), CollectorRunner.StartAsync(fresh) };
        await Poll.UntilAsync(
            () => Sql.ScalarAsync<long>(fresh, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database()"),
            waiting => waiting >= 2,
            TimeSpan.FromSeconds(60),
            "both replicas to wait in their migration");
        await tx.CommitAsync();
        await tx.DisposeAsync();

        var replicas = await Task.WhenAll(starting);
        try
        {
            Assert.Equal(Migrations.All.Count, await Sql.ScalarAsync<long>(fresh, "SELECT count(*) FROM schema_migrations"));
            foreach (var replica in replicas)
            {
                using var response = await replica.Ingest.PostAsync("/v1/traces", Protobuf(ManyTraces("replicated", "rep-fn", 10)));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            Assert.Equal(20, await Sql.ScalarAsync<long>(fresh, "SELECT count(*) FROM spans"));
            Assert.Equal(20, await Sql.ScalarAsync<long>(fresh, "SELECT invocations::bigint FROM functions WHERE function_name = 'rep-fn'"));
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }
}
