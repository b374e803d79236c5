using System.CommandLine;

namespace Observability.Cli.Commands;

/// <summary>`obs slo`: service level objectives, their Prometheus rules and their state.</summary>
internal static class SloCommand
{
    public static Command Create() => new("slo", "Service level objectives: generate their Prometheus rules and alerts (dashboards/slo → dashboards/prometheus/rules), show their error budgets.")
    {
        SloGenerateCommand.Create(),
        SloStatusCommand.Create(),
    };
}
