using System.CommandLine;
using Observability.Cli.Commands;

var root = new RootCommand("obs: observability and warm-up for serverless functions")
{
    UpCommand.Create(),
    SloCommand.Create(),
    WarmUpCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
