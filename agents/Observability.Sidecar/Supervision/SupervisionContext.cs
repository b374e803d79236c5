using Microsoft.Extensions.Logging;
using Observability.Sidecar.Configuration;
using Observability.Sidecar.Telemetry;

namespace Observability.Sidecar.Supervision;

/// <summary>What both function sources share: settings, clock, metrics, logs, and the supervisor's two events.</summary>
internal sealed record SupervisionContext(
    SidecarOptions Options,
    SidecarMetrics Metrics,
    TimeProvider Time,
    LogTail Logs,
    ILogger Logger,
    ILoggerFactory Loggers,
    ListeningProbe Probe,
    Action<FunctionInstance> Started,
    Action<FunctionInstance, int?> Exited);
