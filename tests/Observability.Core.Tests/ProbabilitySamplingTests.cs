using Observability.Core.Otlp;
using Observability.Otlp.Sampling;
using static Observability.Core.Tests.Spans;

namespace Observability.Core.Tests;

/// <summary>The OpenTelemetry probability-sampling arithmetic, checked against the specification's own table.</summary>
public sealed class ProbabilitySamplingTests
{
    [Theory]
    // From "TraceState: Probability Sampling", the 1-in-N table at precision 4.
    [InlineData(1.0, "0")]
    [InlineData(0.5, "8")]
    [InlineData(1.0 / 3, "aaab")]
    [InlineData(0.25, "c")]
    [InlineData(0.2, "cccd")]
    [InlineData(0.125, "e")]
    [InlineData(0.1, "e666")]
    [InlineData(0.0625, "f")]
    [InlineData(0.01, "fd70a")]
    [InlineData(0.001, "ffbe77")]
    [InlineData(0.0001, "fff9724")]
    [InlineData(0.00001, "ffff583a")]
    public void A_probability_becomes_the_threshold_the_specification_gives(double probability, string th)
    {
        Assert.Equal(th, ProbabilitySampling.Encode(ProbabilitySampling.ThresholdOf(probability)!.Value));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-18)]
    [InlineData(double.NaN)]
    public void A_probability_too_small_to_express_samples_nothing(double probability)
    {
        Assert.Null(ProbabilitySampling.ThresholdOf(probability));
    }

    [Theory]
    [InlineData("0", 0UL, 1.0)]
    [InlineData("8", 0x80000000000000UL, 2.0)]
    [InlineData("c", 0xc0000000000000UL, 4.0)]
    [InlineData("e666", 0xe6660000000000UL, 9.99938968568813)]
    [InlineData("E666", 0xe6660000000000UL, 9.99938968568813)]
    [InlineData("fd70a", 0xfd70a000000000UL, 99.99771123402633)]
    [InlineData("ffffffffffffff", 0xffffffffffffffUL, 72057594037927936.0)]
    public void A_th_value_decodes_to_its_threshold_and_adjusted_count(string th, ulong threshold, double adjustedCount)
    {
        Assert.True(ProbabilitySampling.TryDecode(th, out var decoded));
        Assert.Equal(threshold, decoded);
        Assert.Equal(adjustedCount, ProbabilitySampling.AdjustedCount(decoded), 1e-9);
        Assert.Equal(th.ToLowerInvariant(), ProbabilitySampling.Encode(decoded));
    }

    [Theory]
    [InlineData("")]
    [InlineData("g")]
    [InlineData("-1")]
    [InlineData("+8")]
    [InlineData(" 8")]
    [InlineData("fffffffffffffff")] // 15 digits: more than 56 bits
    public void What_is_not_1_to_14_hex_digits_is_no_threshold(string th)
    {
        Assert.False(ProbabilitySampling.TryDecode(th, out _));
    }

    [Fact]
    public void The_randomness_is_the_trace_ids_last_7_bytes()
    {
        var traceId = Convert.FromHexString("ffffffffffffffffff0123456789abcd");
        Assert.Equal(0x0123456789abcdUL, ProbabilitySampling.Randomness(traceId));
        Assert.True(ProbabilitySampling.Keeps(0xe6660000000000UL, 0xe6660000000000UL));
        Assert.False(ProbabilitySampling.Keeps(0xe6660000000000UL, 0xe665ffffffffffUL));
    }

    [Theory]
    [InlineData("ot=th:c", 0xc0000000000000UL, null)]
    [InlineData("vendor=a, ot=rv:0123456789abcd;th:8 ,b=c", 0x80000000000000UL, 0x0123456789abcdUL)]
    [InlineData("ot=p:8;th:e666;x:y", 0xe6660000000000UL, null)]
    [InlineData("ot=rv:0123456789abcd", null, 0x0123456789abcdUL)]
    [InlineData("ot=th:zz;rv:123", null, null)] // neither is valid: a bad sub-key is no sub-key
    public void The_ot_entry_gives_threshold_and_randomness(string traceState, ulong? threshold, ulong? randomness)
    {
        Assert.Equal(new OtTraceState(threshold, randomness), OtTraceState.Find(traceState));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("vendor=th:8")]
    [InlineData("not-ot=th:8")]
    public void A_tracestate_without_an_ot_entry_says_nothing(string? traceState)
    {
        Assert.Null(OtTraceState.Find(traceState));
        Assert.Null(ProbabilitySampling.AdjustedCountOf(traceState));
    }

    [Theory]
    [InlineData("ot=th:c", "")]
    [InlineData("a=1,ot=th:c;rv:0123456789abcd,b=2", "a=1,ot=rv:0123456789abcd,b=2")]
    [InlineData("a=1,ot=th:c", "a=1")]
    [InlineData("a=1", "a=1")]
    public void Erasing_the_threshold_keeps_everything_else(string traceState, string expected)
    {
        Assert.Equal(expected, OtTraceState.WithoutThreshold(traceState));
    }

    [Fact]
    public void At_ingest_the_adjusted_count_attribute_wins_over_th_which_wins_over_one()
    {
        Assert.Equal(1.0, Map(null));
        Assert.Equal(4.0, Map("ot=th:c"));
        Assert.Equal(9.99938968568813, Map("x=y,ot=th:e666"), 1e-9);
        Assert.Equal(1.0, Map("ot=th:c", Attr("obs.sampling.adjusted_count", 1L)));
        Assert.Equal(2.5, Map(null, new() { Key = "obs.sampling.adjusted_count", Value = new() { DoubleValue = 2.5 } }));
        // Nonsense (a span cannot stand for less than itself, nor be a string) falls back to th.
        Assert.Equal(4.0, Map("ot=th:c", new() { Key = "obs.sampling.adjusted_count", Value = new() { DoubleValue = 0.5 } }));
        Assert.Equal(4.0, Map("ot=th:c", Attr("obs.sampling.adjusted_count", "10")));
        Assert.Equal(1.0, Map("ot=th:nothex"));

        static double Map(string? traceState, OpenTelemetry.Proto.Common.V1.KeyValue? attribute = null)
        {
            var span = Span(edit: s =>
            {
                s.TraceState = traceState ?? string.Empty;
                if (attribute is not null)
                {
                    s.Attributes.Add(attribute);
                }
            });
            return Assert.Single(OtlpTraceMapper.Map(Request([], span), Now, new IngestRules()).Rows).AdjustedCount;
        }
    }
}
