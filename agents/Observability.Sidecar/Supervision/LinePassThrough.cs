using System.Text;

namespace Observability.Sidecar.Supervision;

/// <summary>
/// Passes the function's output lines on to one of the sidecar's own streams. Lines are buffered and flushed
/// at most <see cref="FlushDelay"/> after the first of them, so a function logging under load costs one write
/// per interval instead of one per line. (A flush queued to the thread pool per burst was measured first: it
/// woke a worker per burst, which then spun, 5 sched_yield calls per request.)
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Two instances that live as long as the process, as Console.Out does.")]
internal sealed class LinePassThrough
{
    private static readonly TimeSpan FlushDelay = TimeSpan.FromMilliseconds(10);

    private readonly StreamWriter _writer;
    private readonly Timer _timer;
    private readonly Lock _lock = new();
    private int _flushPending;

    private LinePassThrough(Stream output)
    {
        _writer = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 16 * 1024) { AutoFlush = false };
        _timer = new Timer(static self => ((LinePassThrough)self!).Flush(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public static LinePassThrough StandardOutput { get; } = new(Console.OpenStandardOutput());

    public static LinePassThrough StandardError { get; } = new(Console.OpenStandardError());

    public void WriteLine(string line)
    {
        lock (_lock)
        {
            _writer.WriteLine(line);
        }

        if (Interlocked.Exchange(ref _flushPending, 1) == 0)
        {
            _timer.Change(FlushDelay, Timeout.InfiniteTimeSpan);
        }
    }

    public void Flush()
    {
        Volatile.Write(ref _flushPending, 0);
        lock (_lock)
        {
            try
            {
                _writer.Flush();
            }
            catch (IOException)
            {
                // Nobody reads the sidecar's output any more (a closed pipe): the lines are still in the log tail.
            }
        }
    }
}
