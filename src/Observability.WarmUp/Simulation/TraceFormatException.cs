namespace Observability.WarmUp.Simulation;

/// <summary>A trace file that cannot be read: names the file and line and says what was expected.</summary>
public sealed class TraceFormatException : Exception
{
    public TraceFormatException()
    {
    }

    public TraceFormatException(string message)
        : base(message)
    {
    }

    public TraceFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public static TraceFormatException At(string file, long line, string problem) =>
        new($"{file}, line {line}: {problem}");
}
