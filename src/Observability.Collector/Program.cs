using Microsoft.Extensions.Options;
using Observability.Collector;

try
{
    var app = CollectorApp.Build(args);
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException e)
{
    await Console.Error.WriteLineAsync("obs-collector: configuration error:");
    foreach (var failure in e.Failures)
    {
        await Console.Error.WriteLineAsync("  - " + failure);
    }

    return 2;
}
catch (InvalidOperationException e) when (e.InnerException is Npgsql.NpgsqlException)
{
    await Console.Error.WriteLineAsync("obs-collector: " + e.Message);
    return 3;
}
