using System.Net;
using Observability.Testing;
using static Observability.Testing.OtlpFactory;
using Span = OpenTelemetry.Proto.Trace.V1.Span;

namespace Observability.Cli.Tests.Analysis;

/// <summary>
/// Class fixture: a collector of its own, seeded with lists longer than the pages the tests ask for: traces of one
/// service (three of them in the same microsecond), versions of one function, and failures of as many kinds. Each
/// list is kept here in the order the collector pages it, worked out from what was sent.
/// </summary>
public sealed class PagedCollector : IAsyncLifetime
{
    public const string Service = "cli-paged-svc";
    public const string Function = "cli-paged-fn";

    private CollectorRunner _collector = null!;

    public Uri ApiEndpoint => _collector.ApiEndpoint;

    /// <summary>The service's trace ids, newest first (ties: the larger id first), as the search pages them.</summary>
    public IReadOnlyList<string> TraceIds { get; private set; } = [];

    /// <summary>The function's versions, in the order the functions list pages them (by name, then version).</summary>
    public IReadOnlyList<string> Versions { get; } = ["1", "2", "3", "4", "5"];

    /// <summary>One failure group per snapshot (each a different status on a different route), newest first.</summary>
    public IReadOnlyList<SnapshotSeed.Snapshot> Failures { get; private set; } = [];

    /// <summary>Two more snapshots of the oldest group (same trigger, status and route), older than its first: a group to page.</summary>
    public IReadOnlyList<SnapshotSeed.Snapshot> Repeats { get; private set; } = [];

    public async Task InitializeAsync()
    {
        _collector = await CollectorRunner.StartAsync(await (await PostgresServer.Shared).CreateDatabaseAsync("cli_paging"));
        var now = DateTime.UtcNow;
        var offsets = new[] { 50, 40, 30, 30, 30, 20, 10 };
        var spans = offsets.Select(minutesAgo =>
        {
            var span = Span("GET /paged");
            span.StartTimeUnixNano = Nanos(now.AddMinutes(-minutesAgo));
            span.EndTimeUnixNano = span.StartTimeUnixNano + 2_000_000;
            return span;
        }).ToList();
        await IngestAsync(Traces(Service, null, [.. spans]));
        TraceIds = [.. spans.OrderByDescending(s => s.StartTimeUnixNano).ThenByDescending(Hex, StringComparer.Ordinal).Select(Hex)];

        foreach (var version in Versions)
        {
            await IngestAsync(SeededCollector.Export(Function, version, [SeededCollector.Invocation(now.AddMinutes(-15), 20, cold: false, error: false)]));
        }

        Failures =
        [
            new(Function, "5", now.AddMinutes(-5), "status_5xx", 500, "http://localhost/a"),
            new(Function, "5", now.AddMinutes(-15), "status_5xx", 502, "http://localhost/b"),
            new(Function, "5", now.AddMinutes(-25), "status_5xx", 503, "http://localhost/c"),
        ];
        Repeats =
        [
            Failures[^1] with { Time = now.AddMinutes(-26) },
            Failures[^1] with { Time = now.AddMinutes(-27) },
        ];
        using var response = await _collector.Ingest.PostAsync("/v1/logs", Protobuf(SnapshotSeed.Export([.. Failures, .. Repeats])));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Ingest is asynchronous: wait until every list is whole.
        await Poll.UntilAsync(() => CountAsync($"/api/v1/traces?service={Service}&limit=100"), n => n == TraceIds.Count, TimeSpan.FromSeconds(60), "the seeded traces");
        await Poll.UntilAsync(() => CountAsync("/api/v1/functions?limit=100"), n => n == Versions.Count, TimeSpan.FromSeconds(60), "the seeded versions");
        await Poll.UntilAsync(() => CountAsync("/api/v1/failures?limit=100"), n => n == Failures.Count, TimeSpan.FromSeconds(60), "the seeded failures");
    }

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    private static string Hex(Span span) => Convert.ToHexStringLower(span.TraceId.ToByteArray());

    private async Task IngestAsync(OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest request)
    {
        using var response = await _collector.Ingest.PostAsync("/v1/traces", Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<int> CountAsync(string path)
    {
        using var json = System.Text.Json.JsonDocument.Parse(await _collector.Query.GetStringAsync(path));
        return json.RootElement.GetProperty("items").GetArrayLength();
    }
}
