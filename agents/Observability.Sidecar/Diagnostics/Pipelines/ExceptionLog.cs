namespace Observability.Sidecar.Diagnostics.Pipelines;

/// <summary>
/// The last exceptions a runtime reported, oldest first. The runtime's exception event has the type and message; the
/// stack comes later, when the app logs the exception through ILogger, and is attached to the matching entry.
/// </summary>
internal sealed class ExceptionLog(int capacity)
{
    private readonly List<RuntimeException> _entries = [];
    private readonly Lock _gate = new();

    public void Thrown(RuntimeException exception)
    {
        lock (_gate)
        {
            Add(exception);
        }
    }

    /// <summary>
    /// Attaches a logged exception's text to the newest entry of the same type and message that has none yet (or already
    /// has this text: the same exception logged twice); adds an entry when there is none (logged but never thrown).
    /// </summary>
    public RuntimeException Logged(DateTime time, string type, string message, string text, int threadId)
    {
        lock (_gate)
        {
            for (var i = _entries.Count - 1; i >= 0; i--)
            {
                var entry = _entries[i];
                if (entry.Type == type && entry.Message == message && (entry.StackTrace is null || entry.StackTrace == text))
                {
                    return _entries[i] = entry with { StackTrace = text };
                }
            }

            var added = new RuntimeException(time, type, message, text, threadId);
            Add(added);
            return added;
        }
    }

    public RuntimeException[] Since(DateTime sinceUtc)
    {
        lock (_gate)
        {
            return [.. _entries.Where(e => e.Time >= sinceUtc)];
        }
    }

    private void Add(RuntimeException exception)
    {
        if (_entries.Count == capacity)
        {
            _entries.RemoveAt(0);
        }

        _entries.Add(exception);
    }
}
