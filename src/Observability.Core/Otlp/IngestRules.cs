namespace Observability.Core.Otlp;

/// <summary>What the collector accepts, checked per span and per log record.</summary>
public sealed record IngestRules
{
    /// <summary>Oldest start time accepted, measured back from now. Default 7 days (the default retention).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>How far in the future a timestamp may be (clock skew between hosts). Default 1 hour.</summary>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>The rows a request maps to, and what was rejected from it and why.</summary>
public sealed class MappedRequest<T>
{
    private readonly List<string> _reasons = [];

    public List<T> Rows { get; } = [];

    public int Rejected { get; private set; }

    /// <summary>A short message for OTLP's partial_success.error_message, or null when nothing was rejected.</summary>
    public string? ErrorMessage =>
        Rejected == 0 ? null : $"{Rejected} rejected: {string.Join("; ", _reasons)}";

    internal void Reject(string reason)
    {
        Rejected++;
        // A few distinct reasons say enough; a request of 10,000 bad spans must not make a 1 MB message.
        if (_reasons.Count < 5 && !_reasons.Contains(reason))
        {
            _reasons.Add(reason);
        }
    }
}
