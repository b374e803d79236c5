using System.CommandLine;
using Observability.Cli.Commands;
using Spectre.Console;

// Piped into a file or grep, every command's tables would wrap at 80 columns: give them room instead.
if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 200)
{
    AnsiConsole.Profile.Width = 200;
}

var root = new RootCommand("obs: observability and warm-up for serverless functions")
{
    UpCommand.Create(),
    DemoCommand.Create(),
    AttachCommand.Create(),
    WarmUpCommand.Create(),
    SloCommand.Create(),
    FunctionsCommand.Create(),
    TracesCommand.Create(),
    TraceCommand.Create(),
    ColdStartsCommand.Create(),
    FailuresCommand.Create(),
};
var parsed = root.Parse(args);
// Ctrl+C and SIGTERM cancel the command; `obs up`, `demo` and `attach` then stop their processes, which takes longer
// than System.CommandLine's default of 2 s before it gives up waiting.
var exitCode = await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });

// Bad usage (an unknown option, a missing argument) is 2, apart from 1 for "not found" and "unreachable".
return parsed.Errors.Count > 0 ? 2 : exitCode;
