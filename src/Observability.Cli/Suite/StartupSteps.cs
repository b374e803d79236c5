using Spectre.Console;

namespace Observability.Cli.Suite;

/// <summary>A step of a long start-up: a spinner while it runs, a tick when it is done.</summary>
internal static class StartupSteps
{
    public static async Task<T> Step<T>(string what, Func<Task<T>> action)
    {
        T value = default!;
        await AnsiConsole.Status().StartAsync(what + "…", async _ => value = await action());
        AnsiConsole.MarkupLineInterpolated($"[green]✓[/] {what}");
        return value;
    }

    public static Task<bool> Step(string what, Func<Task> action) => Step(what, async () =>
    {
        await action();
        return true;
    });
}
