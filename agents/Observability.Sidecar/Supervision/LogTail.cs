namespace Observability.Sidecar.Supervision;

/// <summary>The last N lines the function wrote, for failure snapshots. Thread-safe.</summary>
public sealed class LogTail(int capacity)
{
    private readonly Queue<string> _lines = new();
    private readonly Lock _lock = new();

    public int Capacity => capacity;

    public void Add(string stream, string line)
    {
        if (capacity == 0)
        {
            return;
        }

        lock (_lock)
        {
            if (_lines.Count == capacity)
            {
                _lines.Dequeue();
            }

            _lines.Enqueue($"{stream}: {line}");
        }
    }

    public IReadOnlyList<string> Snapshot()
    {
        lock (_lock)
        {
            return [.. _lines];
        }
    }
}
