using System.Globalization;

namespace Observability.Testing;

/// <summary>Reads one sample from Prometheus text exposition.</summary>
public static class MetricsText
{
    /// <summary>The value of the series whose name and labels start the line exactly as given, or 0 when absent.</summary>
    public static double Value(string exposition, string series)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
