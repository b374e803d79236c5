using System.CommandLine;

namespace Observability.Cli.Commands;

/// <summary>`obs slo status`: each SLO's budget and burn rates from the stored invocations.</summary>
internal static class SloStatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "Each SLO's objective, error budget remaining and burn rates, from the invocations the collector stored.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("obs slo status: not built yet");
            return 3;
        });
        return command;
    }
}
