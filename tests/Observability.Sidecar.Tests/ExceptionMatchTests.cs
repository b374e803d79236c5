using Observability.Sidecar.Diagnostics;
using Observability.Sidecar.Snapshots;

namespace Observability.Sidecar.Tests;

/// <summary>The rules that decide which runtime exceptions a failed request's snapshot may carry.</summary>
public sealed class ExceptionMatchTests
{
    private const string Own = "0af7651916cd43dd8448eb211c80319c";
    private const string Other = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static readonly DateTime T = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Exceptions_logged_with_the_requests_trace_id_are_its_own_and_only_those()
    {
        RuntimeException[] seen = [Exception("mine", Own), Exception("theirs", Other), Exception("unknown", null)];
        var match = ExceptionMatch.Of(seen, Own, otherRequests: 3);
        Assert.Equal(ExceptionMatch.Trace, match.How);
        Assert.Equal(["mine"], match.Exceptions.Select(e => e.Message));
        Assert.True(match.MayBlame);
    }

    [Fact]
    public void Without_its_trace_id_a_lone_request_keeps_the_untraced_exceptions_but_never_another_requests()
    {
        RuntimeException[] seen = [Exception("theirs", Other), Exception("unknown", null)];
        var match = ExceptionMatch.Of(seen, Own, otherRequests: 0);
        Assert.Equal(ExceptionMatch.OnlyRequest, match.How);
        Assert.Equal(["unknown"], match.Exceptions.Select(e => e.Message));
        Assert.True(match.MayBlame);
    }

    [Fact]
    public void Without_its_trace_id_and_with_others_in_flight_the_match_is_uncertain_and_blames_nothing()
    {
        var match = ExceptionMatch.Of([Exception("unknown", null)], Own, otherRequests: 1);
        Assert.Equal(ExceptionMatch.Uncertain, match.How);
        Assert.Single(match.Exceptions);
        Assert.False(match.MayBlame);
    }

    [Fact]
    public void A_failure_outside_a_request_keeps_every_exception_unlabelled()
    {
        RuntimeException[] seen = [Exception("a", Other), Exception("b", null)];
        var match = ExceptionMatch.Of(seen, traceId: null, otherRequests: null);
        Assert.Null(match.How);
        Assert.Equal(2, match.Exceptions.Count);
        Assert.True(match.MayBlame);
    }

    [Fact]
    public void Waiting_ends_with_the_requests_own_stack_or_when_the_runtime_gives_no_trace_ids()
    {
        Assert.False(ExceptionMatch.IsComplete([Exception("theirs", Other, stack: true)], Own));
        Assert.False(ExceptionMatch.IsComplete([Exception("mine", Own, stack: false)], Own));
        Assert.True(ExceptionMatch.IsComplete([Exception("theirs", Other, stack: true), Exception("mine", Own, stack: true)], Own));
        Assert.True(ExceptionMatch.IsComplete([Exception("untraced", null, stack: true)], Own));
        Assert.False(ExceptionMatch.IsComplete([Exception("thrown only", null, stack: false)], Own));
    }

    private static RuntimeException Exception(string message, string? traceId, bool stack = true) =>
        new(T, "System.InvalidOperationException", message, stack ? $"System.InvalidOperationException: {message}" : null, 1, traceId);
}
