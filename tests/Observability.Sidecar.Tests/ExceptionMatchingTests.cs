using System.Net;
using System.Text.Json;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>
/// Concurrent failing requests through the sidecar to the sample .NET function: the runtime reports every exception
/// of the process, and each snapshot must carry only its own request's, or say that it cannot tell.
/// </summary>
public sealed class ExceptionMatchingTests(PostgresDatabase database, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private CollectorRunner _collector = null!;

    public async Task InitializeAsync() => _collector = await CollectorRunner.StartAsync(database.ConnectionString);

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public async Task Concurrent_failures_each_carry_only_their_own_exception_matched_by_trace_id()
    {
        await using var sidecar = await SidecarRunner.StartAsync("overlapping", _collector);
        Assert.Equal(HttpStatusCode.OK, (await sidecar.Client.GetAsync("/hello")).StatusCode);

        // Overlapping: the second throws while the first is still in flight, and a third request succeeds meanwhile.
        var first = sidecar.Client.GetAsync("/throw?msg=first-failure&delay=800");
        var second = sidecar.Client.GetAsync("/throw?msg=second-failure&delay=300");
        var fine = sidecar.Client.GetAsync("/slow?ms=500");
        Assert.Equal(HttpStatusCode.InternalServerError, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await second).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fine).StatusCode);

        var snapshots = await SnapshotsAsync(sidecar, "overlapping", 2);
        Assert.Equal(2, snapshots.Count);
        foreach (var snapshot in snapshots.Select(s => s.GetProperty("snapshot")))
        {
            output.WriteLine(snapshot.ToString());
            var own = snapshot.GetProperty("request").GetProperty("url").GetString()!.Contains("first", StringComparison.Ordinal) ? "first-failure" : "second-failure";
            Assert.Equal("trace", snapshot.GetProperty("exceptionsMatch").GetString());
            Assert.True(snapshot.GetProperty("concurrentRequests").GetInt32() >= 1);
            var exception = Assert.Single(snapshot.GetProperty("exceptions").EnumerateArray());
            Assert.Equal(own, exception.GetProperty("message").GetString());
            Assert.Contains("at Program.", exception.GetProperty("stackTrace").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(2L, await BlamedAsync("overlapping"));
    }

    [Fact]
    public async Task Without_a_trace_id_a_lone_failure_keeps_its_exception_and_concurrent_ones_are_marked_uncertain()
    {
        // The function sends no logs to the runtime's event stream: its exceptions come without a trace id.
        await using var sidecar = await SidecarRunner.StartAsync("untraced", _collector, "FunctionEnvironment:Logging__EventSource__LogLevel__Microsoft.AspNetCore.Server.Kestrel=None");
        Assert.Equal(HttpStatusCode.InternalServerError, (await sidecar.Client.GetAsync("/throw?msg=lone-failure")).StatusCode);
        var lone = Assert.Single(await SnapshotsAsync(sidecar, "untraced", 1)).GetProperty("snapshot");
        output.WriteLine(lone.ToString());
        Assert.Equal("only_request", lone.GetProperty("exceptionsMatch").GetString());
        Assert.Equal(0, lone.GetProperty("concurrentRequests").GetInt32());
        Assert.Contains(lone.GetProperty("exceptions").EnumerateArray(), e => e.GetProperty("message").GetString() == "lone-failure");
        Assert.Equal(1L, await BlamedAsync("untraced"));

        var first = sidecar.Client.GetAsync("/throw?msg=first-failure&delay=800");
        var second = sidecar.Client.GetAsync("/throw?msg=second-failure&delay=300");
        Assert.Equal(HttpStatusCode.InternalServerError, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await second).StatusCode);

        var concurrent = (await SnapshotsAsync(sidecar, "untraced", 3)).Select(s => s.GetProperty("snapshot"))
            .Where(s => s.GetProperty("request").GetProperty("url").GetString()!.Contains("delay", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, concurrent.Count);
        foreach (var snapshot in concurrent)
        {
            output.WriteLine(snapshot.ToString());
            Assert.Equal("uncertain", snapshot.GetProperty("exceptionsMatch").GetString());
            Assert.True(snapshot.GetProperty("concurrentRequests").GetInt32() >= 1);
        }

        // Candidates are listed, but neither is named the failure's exception.
        Assert.Equal(1L, await BlamedAsync("untraced"));
    }

    private async Task<List<JsonElement>> SnapshotsAsync(SidecarRunner sidecar, string function, int atLeast)
    {
        try
        {
            return await _collector.SnapshotsAsync(function, atLeast);
        }
        catch (TimeoutException)
        {
            output.WriteLine(sidecar.Output); // why a snapshot was not taken
            throw;
        }
    }

    /// <summary>Snapshots stored with exception.* attributes: those that name an exception as the failure's cause.</summary>
    private Task<long> BlamedAsync(string function) =>
        Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM logs WHERE function_name = $1 AND attributes ? 'exception.type'", function);
}
