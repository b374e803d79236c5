using Microsoft.Extensions.Options;
using Observability.WarmUp.Scheduling;

try
{
    var app = WarmUpScheduler.Build(args);
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException e)
{
    await Console.Error.WriteLineAsync("obs-warmup: configuration error:");
    foreach (var failure in e.Failures)
    {
        await Console.Error.WriteLineAsync("  - " + failure);
    }

    return 2;
}
catch (Npgsql.NpgsqlException e)
{
    await Console.Error.WriteLineAsync("obs-warmup: cannot reach the database (WarmUp:DatabaseUrl, OBS_DATABASE_URL): " + e.Message);
    return 3;
}
