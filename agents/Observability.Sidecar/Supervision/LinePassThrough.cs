using System.Text;

namespace Observability.Sidecar.Supervision;

/// <summary>
/// Passes the function's output lines on to one of the sidecar's own streams. A line is buffered and a flush
/// queued behind it, so the lines of a burst (a function logging under load) leave in one write instead of
/// one write each, and none waits longer than a thread-pool hop.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Two instances that live as long as the process, as Console.Out does.")]
internal sealed class LinePassThrough(Stream output)
{
    private readonly StreamWriter _writer = new(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 16 * 1024) { AutoFlush = false };
    private readonly Lock _lock = new();
    private int _flushQueued;

    public static LinePassThrough StandardOutput { get; } = new(Console.OpenStandardOutput());

    public static LinePassThrough StandardError { get; } = new(Console.OpenStandardError());

    public void WriteLine(string line)
    {
        lock (_lock)
        {
            _writer.WriteLine(line);
        }

        if (Interlocked.Exchange(ref _flushQueued, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.Flush(), this, preferLocal: false);
        }
    }

    public void Flush()
    {
        Volatile.Write(ref _flushQueued, 0);
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
