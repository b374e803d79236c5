using System.Globalization;

namespace Observability.WarmUp.Simulation;

/// <summary>
/// Reads the simple trace format: one invocation per line, <c>function,timestamp</c>, the timestamp ISO-8601
/// (UTC unless it says otherwise) or unix seconds (fractions allowed). A header line is optional. Several files
/// are one trace. The trace spans from the first invocation to the last.
/// </summary>
public static class CsvTraceReader
{
    public static InvocationTrace Read(IEnumerable<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var byFunction = new Dictionary<string, List<DateTimeOffset>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            using var reader = new StreamReader(file);
            ReadInto(reader, file, byFunction);
        }

        return Build(byFunction);
    }

    public static InvocationTrace Read(TextReader reader, string name)
    {
        var byFunction = new Dictionary<string, List<DateTimeOffset>>(StringComparer.Ordinal);
        ReadInto(reader, name, byFunction);
        return Build(byFunction);
    }

    private static void ReadInto(TextReader reader, string file, Dictionary<string, List<DateTimeOffset>> byFunction)
    {
        long lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var comma = line.IndexOf(',', StringComparison.Ordinal);
            if (comma <= 0 || line.IndexOf(',', comma + 1) >= 0)
            {
                throw TraceFormatException.At(file, lineNumber, "expected two fields, 'function,timestamp'.");
            }

            var function = line[..comma].Trim();
            var stamp = line[(comma + 1)..].Trim();
            if (!TryParseTimestamp(stamp, out var at))
            {
                if (lineNumber == 1 && byFunction.Count == 0)
                {
                    continue; // a header
                }

                throw TraceFormatException.At(file, lineNumber, $"'{stamp}' is neither an ISO-8601 timestamp nor unix seconds.");
            }

            if (!byFunction.TryGetValue(function, out var times))
            {
                byFunction[function] = times = [];
            }

            times.Add(at);
        }
    }

    internal static bool TryParseTimestamp(string text, out DateTimeOffset at)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            at = DateTimeOffset.UnixEpoch.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
            return true;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at);
    }

    private static InvocationTrace Build(Dictionary<string, List<DateTimeOffset>> byFunction)
    {
        if (byFunction.Count == 0)
        {
            throw new TraceFormatException("The trace holds no invocations.");
        }

        var functions = byFunction
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f =>
            {
                var times = f.Value.ToArray();
                Array.Sort(times);
                return new FunctionTrace(f.Key, null, times);
            })
            .ToList();
        return new InvocationTrace(functions.Min(f => f.Invocations[0]), functions.Max(f => f.Invocations[^1]), functions);
    }
}
