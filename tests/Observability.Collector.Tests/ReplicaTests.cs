using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Observability.Collector.Storage;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Trace.V1;
using static Observability.Testing.OtlpFactory;
using OtlpSpan = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Collector.Tests;

/// <summary>
/// Two collector replicas on one database, as behind a load balancer (docs/operations.md, "Scaling out"): they
/// start together, create the same partitions, take the same retried spans and run retention at the same
/// moment, and the store stays exact.
/// </summary>
public sealed class ReplicaTests
{
    private const string Service = "replicated";
    private const string Function = "rep-fn";

    [Fact]
    public async Task Two_replicas_started_together_store_every_span_of_concurrent_http_and_grpc_ingest_exactly_once_and_answer_alike()
    {
        var fresh = await (await PostgresServer.Shared).CreateDatabaseAsync("replicas");
        var replicas = await Task.WhenAll(CollectorRunner.StartAsync(fresh), CollectorRunner.StartAsync(fresh));
        await using var a = replicas[0];
        await using var b = replicas[1];

        // Days 2 to 5 back have no partitions yet (a collector creates yesterday, today and tomorrow at start):
        // both replicas create them on demand, at the same time.
        var days = Enumerable.Range(2, 4).Select(d => DateTime.UtcNow.Date.AddDays(-d)).ToArray();
        foreach (var day in days)
        {
            Assert.False(await PartitionExistsAsync(fresh, Partitions.Name("spans", DateOnly.FromDateTime(day))));
        }

        const int Requests = 120, TracesEach = 10, SpansPerTrace = 3;
        var requests = Enumerable.Range(0, Requests).Select(i => Request(days[i % days.Length].AddHours(1 + (i % 20)), TracesEach)).ToArray();
        // Every third request goes to both replicas at once, one over HTTP and one over gRPC: a client's retry
        // that the load balancer sent to the other replica while the first attempt was still being written.
        var sends = new List<(CollectorRunner Replica, bool Grpc, ExportTraceServiceRequest Request)>();
        for (var i = 0; i < Requests; i++)
        {
            var first = i % 2 == 0 ? a : b;
            sends.Add((first, i % 4 < 2, requests[i]));
            if (i % 3 == 0)
            {
                sends.Add((first == a ? b : a, i % 4 >= 2, requests[i]));
            }
        }

        var duplicateSends = sends.Count - Requests;
        using var channelA = GrpcChannel.ForAddress(a.GrpcEndpoint);
        using var channelB = GrpcChannel.ForAddress(b.GrpcEndpoint);
        var queue = new ConcurrentQueue<(CollectorRunner Replica, bool Grpc, ExportTraceServiceRequest Request)>(sends); // a duplicate right after its first send: both in flight at once
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (queue.TryDequeue(out var send))
            {
                if (send.Grpc)
                {
                    var reply = await new TraceService.TraceServiceClient(send.Replica == a ? channelA : channelB)
                        .ExportAsync(send.Request, new Metadata { { "authorization", "Bearer " + CollectorRunner.WriteKey } });
                    Assert.Null(reply.PartialSuccess);
                }
                else
                {
                    using var response = await send.Replica.Ingest.PostAsync("/v1/traces", Protobuf(send.Request));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }
            }
        })));

        var spans = Requests * TracesEach * SpansPerTrace;
        var invocations = Requests * TracesEach; // one SERVER span per trace
        Assert.Equal(spans, await Sql.ScalarAsync<long>(fresh, $"SELECT count(*) FROM spans WHERE service_name = '{Service}'"));
        Assert.Equal(spans, await Sql.ScalarAsync<long>(fresh, $"SELECT count(DISTINCT (trace_id, span_id)) FROM spans WHERE service_name = '{Service}'"));
        foreach (var day in days)
        {
            var partition = Partitions.Name("spans", DateOnly.FromDateTime(day));
            Assert.True(await PartitionExistsAsync(fresh, partition), partition);
            Assert.True(await PartitionExistsAsync(fresh, Partitions.Name("logs", DateOnly.FromDateTime(day))));
            Assert.Equal(spans / days.Length, await Sql.ScalarAsync<long>(fresh, $"SELECT count(*) FROM {partition}"));
        }

        Assert.Equal(invocations, await Sql.ScalarAsync<double>(fresh, $"SELECT invocations FROM functions WHERE function_name = '{Function}'"));
        Assert.Equal(SpansPerTrace, await Sql.ScalarAsync<long>(fresh, $"SELECT count(*) FROM operations WHERE service_name = '{Service}'"));

        // Each replica counts what it committed: Prometheus must scrape both and sum.
        var metrics = await Task.WhenAll(a.Query.GetStringAsync("/metrics"), b.Query.GetStringAsync("/metrics"));
        double Sum(string series) => metrics.Sum(m => MetricsText.Value(m, series));
        Assert.Equal(spans, Sum("obs_collector_accepted_total{signal=\"spans\"}"));
        Assert.Equal(duplicateSends * TracesEach * SpansPerTrace, Sum("obs_collector_duplicates_total{signal=\"spans\"}"));
        Assert.Equal(invocations, Sum($"faas_invocations_total{{function=\"{Function}\",version=\"1\",trigger=\"http\"}}"));
        Assert.Equal(0, Sum("obs_collector_dropped_total{signal=\"spans\",reason=\"storage_unavailable\"}"));
        Assert.All(metrics, m => Assert.True(MetricsText.Value(m, "obs_collector_accepted_total{signal=\"spans\"}") > 0, "both replicas took a share"));

        // Queries answer from the database, not from the replica that took the data: both say the same.
        foreach (var path in new[] { "/api/v1/functions", "/api/v1/services", $"/api/v1/services/{Service}/operations", "/jaeger/api/services" })
        {
            var answers = await Task.WhenAll(a.Query.GetStringAsync(path), b.Query.GetStringAsync(path));
            Assert.Equal(answers[0], answers[1]);
        }

        foreach (var request in requests.Where((_, i) => i % 13 == 0))
        {
            var traceId = Convert.ToHexStringLower(request.ResourceSpans[0].ScopeSpans[0].Spans[0].TraceId.ToByteArray());
            var answers = await Task.WhenAll(a.Query.GetStringAsync($"/api/v1/traces/{traceId}"), b.Query.GetStringAsync($"/api/v1/traces/{traceId}"));
            Assert.Equal(answers[0], answers[1]);
            Assert.Equal(SpansPerTrace, JsonDocument.Parse(answers[0]).RootElement.GetProperty("spans").GetArrayLength());
        }
    }

    [Fact]
    public async Task Two_replicas_creating_the_same_day_partition_at_the_same_moment_both_commit()
    {
        var fresh = await (await PostgresServer.Shared).CreateDatabaseAsync("replicas");
        var replicas = await Task.WhenAll(CollectorRunner.StartAsync(fresh), CollectorRunner.StartAsync(fresh));
        await using var a = replicas[0];
        await using var b = replicas[1];
        var day = DateTime.UtcNow.Date.AddDays(-3);

        // Force the overlap: while this test holds the parent tables, each replica's CREATE TABLE … PARTITION OF
        // waits (or waits to take its turn). Both proceed together when they are let go; without the turns, both
        // would have checked that the partition did not exist and the second CREATE would fail in the catalog.
        await using var holder = new NpgsqlConnection(fresh);
        await holder.OpenAsync();
        var tx = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE spans, logs IN ACCESS EXCLUSIVE MODE", holder, tx))
        {
            await hold.ExecuteNonQueryAsync();
        }

        var ingest = new[] { a, b }.Select(r => r.Ingest.PostAsync("/v1/traces", Protobuf(Request(day.AddHours(6), 5)))).ToArray();
        await Poll.UntilAsync(
            () => Sql.ScalarAsync<long>(fresh, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid WHERE NOT l.granted AND s.datname = current_database()"),
            waiting => waiting >= 2,
            TimeSpan.FromSeconds(60),
            "both replicas to wait to create the partition");
        await tx.CommitAsync();
        await tx.DisposeAsync();

        foreach (var response in await Task.WhenAll(ingest))
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        Assert.Equal(2 * 5 * 3, await Sql.ScalarAsync<long>(fresh, $"SELECT count(*) FROM {Partitions.Name("spans", DateOnly.FromDateTime(day))}"));
    }

    [Fact]
    public async Task Retention_passes_of_two_replicas_at_the_same_moment_drop_each_old_partition_once_while_both_ingest()
    {
        var fresh = await (await PostgresServer.Shared).CreateDatabaseAsync("replicas");
        var old = new[] { DateTime.UtcNow.Date.AddDays(-10), DateTime.UtcNow.Date.AddDays(-9) };
        await using (var keeping = await CollectorRunner.StartAsync(fresh, o => o.RetentionDays = 30))
        {
            foreach (var day in old)
            {
                using var response = await keeping.Ingest.PostAsync("/v1/traces", Protobuf(Request(day.AddHours(12), 4, "old-fn")));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        // A long query holds the tables; the replicas' retention passes (at start, and once more called here) all
        // come to the same old partitions while it runs: one detaches, the others wait their turn.
        await using var holder = new NpgsqlConnection(fresh);
        await holder.OpenAsync();
        var tx = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE spans, logs IN ACCESS SHARE MODE", holder, tx))
        {
            await hold.ExecuteNonQueryAsync();
        }

        var replicas = await Task.WhenAll(CollectorRunner.StartAsync(fresh, o => o.RetentionDays = 7), CollectorRunner.StartAsync(fresh, o => o.RetentionDays = 7));
        await using var a = replicas[0];
        await using var b = replicas[1];
        var passes = replicas.Select(r => r.Services.GetServices<IHostedService>().OfType<RetentionService>().Single().RunOnceAsync(CancellationToken.None)).ToArray();
        await Poll.UntilAsync(
            () => Sql.ScalarAsync<long>(fresh, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND (query LIKE 'ALTER TABLE % DETACH PARTITION%' OR query LIKE 'SELECT pg_advisory_lock%')"),
            waiting => waiting >= 4,
            TimeSpan.FromSeconds(60),
            "one retention pass to wait to detach, the other three for their turn");

        // Ingest goes on meanwhile, on both replicas, without waiting for the query: a detach blocks neither.
        var today = DateTime.UtcNow.AddMinutes(-1);
        foreach (var response in await Task.WhenAll(Enumerable.Range(0, 6).Select(i => (i % 2 == 0 ? a : b).Ingest.PostAsync("/v1/traces", Protobuf(Request(today, 5))))).WaitAsync(TimeSpan.FromSeconds(60)))
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        Assert.All(passes, p => Assert.False(p.IsCompleted));
        await tx.CommitAsync();
        await tx.DisposeAsync();
        await Task.WhenAll(passes).WaitAsync(TimeSpan.FromSeconds(60)); // a pass that failed would throw here

        foreach (var day in old)
        {
            Assert.False(await PartitionExistsAsync(fresh, Partitions.Name("spans", DateOnly.FromDateTime(day))));
            Assert.False(await PartitionExistsAsync(fresh, Partitions.Name("logs", DateOnly.FromDateTime(day))));
        }

        Assert.Equal(0, await Sql.ScalarAsync<long>(fresh, "SELECT count(*) FROM functions WHERE function_name = 'old-fn'"));
        Assert.Equal(6 * 5 * 3, await Sql.ScalarAsync<long>(fresh, $"SELECT count(*) FROM spans WHERE function_name = '{Function}'"));
    }

    [Fact]
    public async Task A_retention_pass_cut_off_mid_detach_or_between_detach_and_drop_is_finished_by_the_next()
    {
        var fresh = await (await PostgresServer.Shared).CreateDatabaseAsync("retention");
        DateOnly[] days = [DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-10)), DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-9))];
        await using (var keeping = await CollectorRunner.StartAsync(fresh, o => o.RetentionDays = 30))
        {
            foreach (var day in days)
            {
                using var response = await keeping.Ingest.PostAsync("/v1/traces", Protobuf(Request(day.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc), 4, "old-fn")));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        // Day one: a detach stopped while it waited for a reader (as a pass stopped by a shutdown is), left pending.
        var pending = Partitions.Name("spans", days[0]);
        await using (var reader = new NpgsqlConnection(fresh))
        {
            await reader.OpenAsync();
            await using var tx = await reader.BeginTransactionAsync();
            await using (var read = new NpgsqlCommand("LOCK TABLE spans IN ACCESS SHARE MODE", reader, tx))
            {
                await read.ExecuteNonQueryAsync();
            }

            await using var cut = new NpgsqlConnection(fresh);
            await cut.OpenAsync();
            await using var detach = new NpgsqlCommand($"ALTER TABLE spans DETACH PARTITION {pending} CONCURRENTLY", cut) { CommandTimeout = 1 };
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => detach.ExecuteNonQueryAsync());
        }

        Assert.True(await Sql.ScalarAsync<bool>(fresh, "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = $1::regclass", pending));

        // Day two: detached, not dropped (as a pass stopped between the two steps leaves it).
        var detached = Partitions.Name("spans", days[1]);
        await using (var conn = new NpgsqlConnection(fresh))
        {
            await conn.OpenAsync();
            await using var detach = new NpgsqlCommand($"ALTER TABLE spans DETACH PARTITION {detached}", conn);
            await detach.ExecuteNonQueryAsync();
        }

        await using var collector = await CollectorRunner.StartAsync(fresh, o => o.RetentionDays = 7);
        await collector.Services.GetServices<IHostedService>().OfType<RetentionService>().Single().FirstPass.WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var table in days.SelectMany(d => new[] { Partitions.Name("spans", d), Partitions.Name("logs", d) }))
        {
            Assert.False(await PartitionExistsAsync(fresh, table), $"{table} is still there");
        }
    }

    [Fact]
    public async Task Replicas_given_the_same_two_requests_in_opposite_orders_store_them_once_and_refuse_neither()
    {
        // The crossing needs both writers held by the test's table lock. In about one run in ten under load the lock's
        // session was gone before the requests were queued (cause not found): such a run says so and is set up again;
        // whatever the code answers once the crossing is set up is asserted as it comes.
        var lostSetups = new List<string>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await CrossedRequestsAsync() is not { } lost)
            {
                return;
            }

            lostSetups.Add(lost);
        }

        Assert.Fail("the crossing could not be set up three times: " + string.Join(" || ", lostSetups));
    }

    /// <summary>One crossing, its outcome asserted; a description instead when the held writers were let go too early.</summary>
    private static async Task<string?> CrossedRequestsAsync()
    {
        // Replica A writes r1 then r2 in one batch while B writes r2 then r1, at the same moment: each COPY meets rows
        // the other has not committed yet. To get there, each replica's single writer is held on a first, small batch
        // (its COPY waits for this test's lock) while r1 and r2 queue up behind it in the chosen order; releasing the
        // lock lets both replicas go at once, and each takes the two requests as one batch (BatchMaxRows rows).
        const int Spans = 3000;
        void Configure(Configuration.CollectorOptions o)
        {
            o.Writers = 1;
            o.BatchMaxRows = 2 * Spans;
            o.BatchLinger = TimeSpan.Zero; // the held batch takes nothing that arrives after it
        }

        var fresh = await (await PostgresServer.Shared).CreateDatabaseAsync("replicas");
        var replicas = await Task.WhenAll(CollectorRunner.StartAsync(fresh, Configure), CollectorRunner.StartAsync(fresh, Configure));
        await using var a = replicas[0];
        await using var b = replicas[1];
        var r1 = ManyTraces("crossed", "cross-fn", Spans);
        var r2 = ManyTraces("crossed", "cross-fn", Spans);

        await using var holder = new NpgsqlConnection(fresh);
        await holder.OpenAsync();
        var tx = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE spans IN ACCESS EXCLUSIVE MODE", holder, tx))
        {
            await hold.ExecuteNonQueryAsync();
        }

        var held = replicas.Select(r => r.Ingest.PostAsync("/v1/traces", Protobuf(ManyTraces("held", null, 10)))).ToArray();
        await Poll.UntilAsync(
            () => Sql.ScalarAsync<long>(fresh, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'COPY spans%'"),
            waiting => waiting >= 2,
            TimeSpan.FromSeconds(60),
            "both writers to wait on their first batch");

        string Lost(string what) =>
            $"{what}; held batches: {string.Join(", ", held.Select(h => h.IsCompletedSuccessfully ? h.Result.StatusCode.ToString() : h.Status.ToString()))}";

        // Queues the requests on one replica in this order; the answers come once the lock is let go.
        async Task<List<Task<HttpResponseMessage>>> QueueInOrderAsync(params (CollectorRunner Replica, ExportTraceServiceRequest Request)[] sends)
        {
            var pending = new List<Task<HttpResponseMessage>>();
            foreach (var (replica, request) in sends)
            {
                var queued = await QueueDepthAsync(replica);
                var post = replica.Ingest.PostAsync("/v1/traces", Protobuf(request));
                pending.Add(post);
                await Poll.UntilAsync(() => QueueDepthAsync(replica), depth => depth >= queued + Spans || post.IsCompleted, TimeSpan.FromSeconds(60), "the request to be queued");
                if (post.IsCompleted)
                {
                    throw new SetupLostException(Lost($"answered before its batch could be written: {(post.IsCompletedSuccessfully ? post.Result.StatusCode.ToString() : post.Exception?.Message)}; sessions: {await SessionsAsync(fresh)}"));
                }
            }

            return pending;
        }

        List<Task<HttpResponseMessage>> posts;
        try
        {
            posts = [.. (await Task.WhenAll(QueueInOrderAsync((a, r1), (a, r2)), QueueInOrderAsync((b, r2), (b, r1)))).SelectMany(p => p)];
        }
        catch (SetupLostException e)
        {
            return e.Message;
        }

        if (held.Any(h => h.IsCompleted))
        {
            return Lost($"a held batch was written before the lock was let go; sessions: {await SessionsAsync(fresh)}");
        }

        await tx.CommitAsync();
        await tx.DisposeAsync();
        foreach (var response in (await Task.WhenAll(held)).Concat(await Task.WhenAll(posts)))
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        Assert.Equal(2 * Spans, await Sql.ScalarAsync<long>(fresh, "SELECT count(*) FROM spans WHERE service_name = 'crossed'"));
        Assert.Equal(2 * Spans, await Sql.ScalarAsync<double>(fresh, "SELECT invocations FROM functions WHERE function_name = 'cross-fn'"));
        var metrics = await Task.WhenAll(a.Query.GetStringAsync("/metrics"), b.Query.GetStringAsync("/metrics"));
        Assert.All(metrics, m => Assert.Equal(2, MetricsText.Value(m, "obs_collector_batch_rows_count"))); // the held batch, then r1 and r2 together
        Assert.Equal(2 * Spans, metrics.Sum(m => MetricsText.Value(m, "obs_collector_duplicates_total{signal=\"spans\"}")));
        Assert.Equal(2 * Spans, metrics.Sum(m => MetricsText.Value(m, "faas_invocations_total{function=\"cross-fn\",version=\"1\",trigger=\"http\"}")));
        return null;
    }

    private static async Task<string> SessionsAsync(string db)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT string_agg(concat_ws(' ', pid, wait_event_type, wait_event, state, left(query, 40)), ' | ') FROM pg_stat_activity WHERE datname = current_database()", conn);
        return (await command.ExecuteScalarAsync())?.ToString() ?? string.Empty;
    }

    private static async Task<double> QueueDepthAsync(CollectorRunner replica) =>
        MetricsText.Value(await replica.Query.GetStringAsync("/metrics"), "obs_collector_queue_depth");

    /// <summary><paramref name="traces"/> traces of a SERVER span with two children, all starting at <paramref name="start"/>.</summary>
    private static ExportTraceServiceRequest Request(DateTime start, int traces, string function = Function)
    {
        var spans = new List<OtlpSpan>();
        for (var t = 0; t < traces; t++)
        {
            var root = At(Span("GET /orders", attributes: Attr("faas.trigger", "http")), start);
            spans.Add(root);
            foreach (var child in new[] { At(Span("load", root.TraceId, OtlpSpan.Types.SpanKind.Internal), start), At(Span("SELECT orders", root.TraceId, OtlpSpan.Types.SpanKind.Client), start) })
            {
                child.ParentSpanId = root.SpanId;
                spans.Add(child);
            }
        }

        return Traces(Service, function, [.. spans]);
    }

    private static OtlpSpan At(OtlpSpan span, DateTime start)
    {
        span.StartTimeUnixNano = Nanos(start);
        span.EndTimeUnixNano = Nanos(start.AddMilliseconds(20));
        return span;
    }

    private static Task<bool> PartitionExistsAsync(string database, string name) =>
        Sql.ScalarAsync<bool>(database, "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = $1)", name);
}

/// <summary>The held writers were let go before the crossing was set up: the run proves nothing either way.</summary>
internal sealed class SetupLostException(string message) : Exception(message);
