namespace Observability.WarmUp.Scheduling;

/// <summary>Stable log event ids of the scheduler: never renumber or reuse one.</summary>
internal enum WarmUpLogEvents
{
    TargetWithoutUrl = 4001,
    PlannerRan = 4002,
    PingPlanned = 4003,
    PingSkipped = 4004,
    PingAlreadyDone = 4005,
    PingSent = 4006,
    PingFailed = 4007,
    CollectorTablesMissing = 4008,
    PlannerBusy = 4009,
    TargetFailed = 4010,
    TargetsFileInvalid = 4011,
}
