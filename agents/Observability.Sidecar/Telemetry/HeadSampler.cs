using System.Diagnostics;
using Observability.Otlp.Sampling;
using OpenTelemetry.Trace;

namespace Observability.Sidecar.Telemetry;

/// <summary>
/// The sampling decision, made when a span starts so that the traceparent the function receives says what will
/// happen to the trace. With a caller's context it is parent-based, as OpenTelemetry's ParentBased sampler: a
/// sampled parent gives a sampled span, a parent that is not sampled one that is not; the caller's <c>ot</c>
/// threshold is passed on when it agrees with the decision and erased when it does not (the specification's
/// parent-based rule). Without one it is consistent probability sampling on the trace id's randomness, and a kept
/// span's tracestate says <c>ot=th:…</c>, so every sidecar and SDK with the same ratio keeps the same traces.
/// A span left out is still recorded (RecordOnly): <see cref="SpanExport"/> exports it anyway when it fails or
/// pays a cold start. Cold-start records are always sampled: they are rare, and the reason people look.
/// </summary>
internal sealed class HeadSampler : Sampler
{
    private static readonly SamplingResult Sampled = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult NotSampled = new(SamplingDecision.RecordOnly);

    private readonly ulong? _threshold;
    private readonly SamplingResult _sampledRoot;

    /// <param name="ratio">0 to 1; 1 keeps everything and adds no tracestate (a span without th counts 1).</param>
    public HeadSampler(double ratio)
    {
        _threshold = ProbabilitySampling.ThresholdOf(ratio);
        _sampledRoot = _threshold is { } t && t > 0
            ? new SamplingResult(SamplingDecision.RecordAndSample, "ot=th:" + ProbabilitySampling.Encode(t))
            : Sampled;
        Description = $"HeadSampler{{{ratio}}}";
    }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        var parent = samplingParameters.ParentContext;
        if (parent.TraceId != default)
        {
            return FollowParent(parent);
        }

        if (samplingParameters.Name == ColdStartRecorder.RecordSpanName)
        {
            return Sampled;
        }

        Span<byte> traceId = stackalloc byte[16];
        samplingParameters.TraceId.CopyTo(traceId);
        return _threshold is { } threshold && ProbabilitySampling.Keeps(threshold, ProbabilitySampling.Randomness(traceId)) ? _sampledRoot : NotSampled;
    }

    private static SamplingResult FollowParent(ActivityContext parent)
    {
        var sampled = (parent.TraceFlags & ActivityTraceFlags.Recorded) != 0;
        // The usual caller sends no tracestate, or one without a threshold: nothing to check or change.
        if (OtTraceState.Find(parent.TraceState) is not { Threshold: { } threshold } ot)
        {
            return sampled ? Sampled : NotSampled;
        }

        if (sampled)
        {
            Span<byte> traceId = stackalloc byte[16];
            parent.TraceId.CopyTo(traceId);
            var randomness = ot.Randomness ?? ProbabilitySampling.Randomness(traceId);
            if (ProbabilitySampling.Keeps(threshold, randomness))
            {
                return Sampled; // the parent's tracestate, th and all, is inherited as it is
            }
        }

        // Not sampled (th means nothing then), or sampled against its own threshold (the count it gives is false).
        return new SamplingResult(sampled ? SamplingDecision.RecordAndSample : SamplingDecision.RecordOnly, OtTraceState.WithoutThreshold(parent.TraceState!));
    }
}
