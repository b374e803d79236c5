using System.Globalization;

namespace Observability.WarmUp.Simulation;

/// <summary>Writes a trace in the simple format <see cref="CsvTraceReader"/> reads: a header, then <c>function,timestamp</c> (ISO-8601 UTC).</summary>
public static class CsvTraceWriter
{
    public static void Write(InvocationTrace trace, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write("function,timestamp\n");
        foreach (var function in trace.Functions)
        {
            foreach (var at in function.Invocations)
            {
                writer.Write(function.Name);
                writer.Write(',');
                writer.Write(at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
                writer.Write('\n');
            }
        }
    }
}
