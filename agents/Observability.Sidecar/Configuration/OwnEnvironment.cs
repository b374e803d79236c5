using System.Collections.Concurrent;

namespace Observability.Sidecar.Configuration;

/// <summary>
/// Settings the sidecar gives itself as environment variables, for the parts that read them only there (the
/// runtime's sockets, the OTLP exporter's disk retry). The function must not inherit them: the supervisor
/// removes every one of them from the function's environment.
/// </summary>
public static class OwnEnvironment
{
    private static readonly ConcurrentDictionary<string, bool> Names = new(StringComparer.Ordinal);

    public static IEnumerable<string> Variables => Names.Keys;

    public static void Set(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        Names[name] = true;
    }
}
