using System.Diagnostics;
using Observability.Sidecar.Telemetry;
using OpenTelemetry.Trace;

namespace Observability.Sidecar.Tests;

/// <summary>The decision at the start of a span: consistent on the trace id for roots, the caller's for the rest.</summary>
public sealed class HeadSamplerTests
{
    private static readonly HeadSampler Tenth = new(0.1);

    [Theory]
    [InlineData("0af7651916cd43dd84e6660000000000", true)] // randomness e6660000000000, the threshold itself: kept
    [InlineData("0af7651916cd43dd84e665ffffffffff", false)] // just below it
    [InlineData("0af7651916cd43ddffffffffffffffff", true)]
    [InlineData("ffffffffffffffff0000000000000fff", false)]
    public void A_root_is_kept_when_its_trace_ids_randomness_reaches_the_threshold(string traceId, bool kept)
    {
        var result = Tenth.ShouldSample(Root(traceId));
        Assert.Equal(kept ? SamplingDecision.RecordAndSample : SamplingDecision.RecordOnly, result.Decision);
        Assert.Equal(kept ? "ot=th:e666" : null, result.TraceStateString);
    }

    [Fact]
    public void At_ratio_one_every_root_is_kept_and_nothing_is_added_and_at_zero_none_is()
    {
        var root = Root("0af7651916cd43dd8400000000000000");
        Assert.Equal((SamplingDecision.RecordAndSample, null), (new HeadSampler(1).ShouldSample(root).Decision, new HeadSampler(1).ShouldSample(root).TraceStateString));
        Assert.Equal(SamplingDecision.RecordOnly, new HeadSampler(0).ShouldSample(Root("0af7651916cd43dd84ffffffffffffff")).Decision);
    }

    [Fact]
    public void A_cold_start_record_is_always_sampled()
    {
        var parameters = new SamplingParameters(default, ActivityTraceId.CreateFromString("0af7651916cd43dd8400000000000000"), ColdStartRecorder.RecordSpanName, ActivityKind.Internal);
        Assert.Equal(SamplingDecision.RecordAndSample, new HeadSampler(0).ShouldSample(parameters).Decision);
    }

    [Theory]
    // The caller's flag decides; without a threshold nothing is changed.
    [InlineData(true, null, SamplingDecision.RecordAndSample, null)]
    [InlineData(false, null, SamplingDecision.RecordOnly, null)]
    [InlineData(false, "vendor=x", SamplingDecision.RecordOnly, null)]
    // A sampled caller's threshold its randomness reaches is inherited as it is.
    [InlineData(true, "ot=th:c,vendor=x", SamplingDecision.RecordAndSample, null)]
    // One its randomness does not reach is false: erased, the rest kept.
    [InlineData(true, "ot=th:f,vendor=x", SamplingDecision.RecordAndSample, "vendor=x")]
    [InlineData(true, "ot=th:c;rv:00000000000001", SamplingDecision.RecordAndSample, "ot=rv:00000000000001")] // rv wins over the id
    // Not sampled: a threshold says nothing about it.
    [InlineData(false, "vendor=x,ot=th:c;rv:d0000000000000", SamplingDecision.RecordOnly, "vendor=x,ot=rv:d0000000000000")]
    public void With_a_caller_its_decision_is_followed_and_its_threshold_kept_only_when_true(bool sampled, string? traceState, SamplingDecision decision, string? passedOn)
    {
        // The trace id's randomness is d0000000000000: at least th:c, below th:f.
        var parent = new ActivityContext(
            ActivityTraceId.CreateFromString("0af7651916cd43dd84d0000000000000"),
            ActivitySpanId.CreateFromString("b7ad6b7169203331"),
            sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None,
            traceState,
            isRemote: true);
        var result = Tenth.ShouldSample(new SamplingParameters(parent, parent.TraceId, "GET", ActivityKind.Server));
        Assert.Equal((decision, passedOn), (result.Decision, result.TraceStateString));
    }

    private static SamplingParameters Root(string traceId) => new(default, ActivityTraceId.CreateFromString(traceId), "GET", ActivityKind.Server);
}
