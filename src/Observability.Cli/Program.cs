using System.CommandLine;
using Observability.Cli.Commands;

var root = new RootCommand("obs: observability and warm-up for serverless functions")
{
    UpCommand.Create(),
    WarmUpCommand.Create(),
    SloCommand.Create(),
    FunctionsCommand.Create(),
    TracesCommand.Create(),
    TraceCommand.Create(),
    ColdStartsCommand.Create(),
    FailuresCommand.Create(),
};
var parsed = root.Parse(args);
var exitCode = await parsed.InvokeAsync();

// Bad usage (an unknown option, a missing argument) is 2, apart from 1 for "not found" and "unreachable".
return parsed.Errors.Count > 0 ? 2 : exitCode;
