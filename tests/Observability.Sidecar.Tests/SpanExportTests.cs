using Observability.Sidecar.Telemetry;

namespace Observability.Sidecar.Tests;

public sealed class SpanExportTests
{
    [Fact]
    public void The_batch_processors_counters_are_found_so_queue_and_drops_are_measured() =>
        Assert.True(SpanExport.CountersFound, "OpenTelemetry's BatchExportProcessor no longer has ReceivedCount/ProcessedCount/DroppedCount: update SpanExport");
}
