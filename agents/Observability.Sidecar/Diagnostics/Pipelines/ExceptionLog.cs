namespace Observability.Sidecar.Diagnostics.Pipelines;

/// <summary>
/// The last exceptions a runtime reported, oldest first. The runtime's exception event has the type and message; the
/// stack and the request's trace id come later, when the app logs the exception through ILogger, and are attached to
/// the matching entry.
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
    /// Attaches a logged exception's text and trace id to the newest entry of the same type and message that has no text
    /// yet (or already has this text: the same exception logged twice), one thrown on the logging thread first (under
    /// concurrent requests, identical exceptions of two requests keep their own times and threads); adds an entry when
    /// there is none (logged but never thrown).
    /// </summary>
    public RuntimeException Logged(DateTime time, string type, string message, string text, int threadId, string? traceId)
    {
        lock (_gate)
        {
            var match = Find(type, message, text, threadId);
            if (match < 0)
            {
                match = Find(type, message, text, threadId: null);
            }

            if (match >= 0)
            {
                var entry = _entries[match];
                return _entries[match] = entry with { StackTrace = text, TraceId = traceId ?? entry.TraceId };
            }

            var added = new RuntimeException(time, type, message, text, threadId, traceId);
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

    private int Find(string type, string message, string text, int? threadId)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            var entry = _entries[i];
            if (entry.Type == type && entry.Message == message && (entry.StackTrace is null || entry.StackTrace == text)
                && (threadId is null || entry.ThreadId == threadId))
            {
                return i;
            }
        }

        return -1;
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
