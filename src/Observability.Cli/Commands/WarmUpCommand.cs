using System.CommandLine;

namespace Observability.Cli.Commands;

/// <summary>`obs warmup`: the warm-up policies' simulator and its synthetic traces.</summary>
internal static class WarmUpCommand
{
    public static Command Create() => new("warmup", "Compare warm-up policies on invocation traces.")
    {
        WarmUpSimulateCommand.Create(),
        WarmUpGenerateTraceCommand.Create(),
    };
}
