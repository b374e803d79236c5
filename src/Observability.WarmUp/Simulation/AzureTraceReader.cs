using System.Globalization;

namespace Observability.WarmUp.Simulation;

/// <summary>
/// Reads the Azure Functions 2019 trace (<c>invocations_per_function_md.anon.dNN.csv</c>): a header, then per
/// function <c>HashOwner,HashApp,HashFunction,Trigger</c> and the invocation counts of minutes 1..1440. Several
/// day files, in the order given, are consecutive days of one trace. The trace has no dates; day 1 starts at
/// <see cref="Epoch"/>. The n invocations of a minute are spread evenly and deterministically over it, at
/// (i + 0.5) * 60 s / n.
/// </summary>
public static class AzureTraceReader
{
    public const int MinutesPerDay = 1440;
    public const int FixedColumns = 4;

    public static readonly DateTimeOffset Epoch = new(2019, 7, 15, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Whether a file's first line is this format's header.</summary>
    public static bool IsHeader(string firstLine) =>
        firstLine.StartsWith("HashOwner,HashApp,HashFunction,Trigger", StringComparison.Ordinal);

    public static InvocationTrace Read(IReadOnlyList<string> dayFiles)
    {
        ArgumentNullException.ThrowIfNull(dayFiles);
        var byFunction = new Dictionary<string, (string Trigger, List<DateTimeOffset> Times)>(StringComparer.Ordinal);
        for (var day = 0; day < dayFiles.Count; day++)
        {
            using var reader = new StreamReader(dayFiles[day]);
            ReadDay(reader, dayFiles[day], Epoch.AddDays(day), byFunction);
        }

        if (byFunction.Count == 0)
        {
            throw new TraceFormatException("The trace holds no invocations.");
        }

        var functions = byFunction
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => new FunctionTrace(f.Key, f.Value.Trigger, [.. f.Value.Times]))
            .Where(f => f.Invocations.Length > 0)
            .ToList();
        return new InvocationTrace(Epoch, Epoch.AddDays(dayFiles.Count), functions);
    }

    private static void ReadDay(TextReader reader, string file, DateTimeOffset dayStart, Dictionary<string, (string Trigger, List<DateTimeOffset> Times)> byFunction)
    {
        var header = reader.ReadLine();
        if (header is null || !IsHeader(header))
        {
            throw TraceFormatException.At(file, 1, "expected the Azure Functions trace header 'HashOwner,HashApp,HashFunction,Trigger,1,...,1440'.");
        }

        long lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = line.Split(',');
            if (fields.Length != FixedColumns + MinutesPerDay)
            {
                throw TraceFormatException.At(file, lineNumber, $"expected {FixedColumns + MinutesPerDay} fields (4 hashes and trigger, 1440 minute counts), found {fields.Length}.");
            }

            var name = $"{fields[0]}/{fields[1]}/{fields[2]}";
            if (!byFunction.TryGetValue(name, out var entry))
            {
                byFunction[name] = entry = (fields[3], []);
            }

            for (var minute = 0; minute < MinutesPerDay; minute++)
            {
                if (!int.TryParse(fields[FixedColumns + minute], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                {
                    throw TraceFormatException.At(file, lineNumber, $"minute {minute + 1}: '{fields[FixedColumns + minute]}' is not a count.");
                }

                var minuteStart = dayStart.AddMinutes(minute);
                for (var i = 0; i < count; i++)
                {
                    entry.Times.Add(minuteStart.AddTicks((long)((i + 0.5) * TimeSpan.TicksPerMinute / count)));
                }
            }
        }
    }
}
