using Observability.Cli.Slo;

namespace Observability.Cli.Commands;

/// <summary>Invalid SLO specs, reported on stderr one problem a line (unwrapped, so that each names its file and field whole).</summary>
internal static class SloErrors
{
    public static void Print(SloSpecException e)
    {
        Console.Error.WriteLine($"Invalid SLO specs ({e.Errors.Count} problem{(e.Errors.Count == 1 ? string.Empty : "s")}):");
        foreach (var error in e.Errors)
        {
            Console.Error.WriteLine("  - " + error);
        }
    }
}
