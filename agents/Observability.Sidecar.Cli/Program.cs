using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Observability.Sidecar;
using Observability.Sidecar.Cli;
using Observability.Sidecar.Configuration;

if (args is ["-h"] or ["--help"])
{
    Console.WriteLine("usage: obs-sidecar --name NAME [--port 8081] [--upstream-port 8080] [--admin-port 9464] [--idle-timeout 00:05:00]");
    Console.WriteLine("                   [--otlp-endpoint http://collector:4318] [--otlp-headers \"Authorization=Bearer KEY\"] [--config sidecar.json]");
    Console.WriteLine("                   [-- command that starts the function]");
    Console.WriteLine("Options: " + string.Join(' ', SidecarArguments.Switches.Keys.Concat(SidecarArguments.ListSwitches.Keys)) + ". Docs: docs/sidecar.md");
    return 0;
}

try
{
    var (hostArgs, command, configFile) = SidecarArguments.Split(args);
    var app = SidecarApp.Build(hostArgs, configFile, o =>
    {
        foreach (var part in command)
        {
            o.Command.Add(part);
        }
    });
    var options = app.Services.GetRequiredService<IOptions<SidecarOptions>>().Value;
    await app.RunAsync();
    SidecarApp.RemoveEmptySpool(options);
    return 0;
}
catch (OptionsValidationException e)
{
    await Console.Error.WriteLineAsync("obs-sidecar: configuration error:");
    foreach (var failure in e.Failures)
    {
        await Console.Error.WriteLineAsync("  - " + failure);
    }

    return 2;
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync("obs-sidecar: " + e.Message);
    return 2;
}
