namespace Observability.WarmUp.Simulation;

/// <summary>Reads trace files in either format, told apart by the first line.</summary>
public static class TraceFiles
{
    public static InvocationTrace Read(IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0)
        {
            throw new TraceFormatException("No trace file given.");
        }

        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"Trace file '{file}' does not exist.", file);
            }
        }

        var azure = files.Select(IsAzure).ToList();
        if (azure.Distinct().Count() > 1)
        {
            throw new TraceFormatException("The trace files mix the Azure Functions format and the simple CSV format; give files of one format.");
        }

        return azure[0] ? AzureTraceReader.Read(files) : CsvTraceReader.Read(files);
    }

    private static bool IsAzure(string file)
    {
        using var reader = new StreamReader(file);
        return reader.ReadLine() is { } first && AzureTraceReader.IsHeader(first);
    }
}
