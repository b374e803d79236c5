using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Observability.Sidecar.Supervision;

/// <summary>
/// Reads the function's stdout and stderr pipes on one thread, in batches, and passes each batch on to the
/// sidecar's own stream of the same name (one write per batch, whole lines only) and its last lines to the
/// <see cref="LogTail"/>. The thread waits until a pipe has data, then lets <see cref="BatchInterval"/> pass
/// before it reads, so a function that logs a line per request wakes the sidecar once per interval, not once
/// per line: a reader blocked on the pipe is woken by every write (with Process's asynchronous readers, a
/// thread-pool thread that then spun: 0.13 context switches per request under load, now 0.01; see
/// docs/benchmarks.md). Whoever wants the latest lines now (a failure snapshot) calls <see cref="CatchUp"/>,
/// which reads what the pipes hold without waiting for the interval.
/// </summary>
internal sealed partial class FunctionOutput
{
    /// <summary>How long the reader lets output gather once some has arrived.</summary>
    public static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(10);

    // A drain that found this much reads again at once: a function writing faster would fill the pipe
    // (64 KiB by default) and block in its write while we sleep.
    private const int BusyDrainBytes = 16 * 1024;

    private readonly Source[] _sources;
    private readonly LogTail _tail;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="streams">The pipes to read, each with its name in the tail and where its bytes go on to.</param>
    /// <param name="tail">Where the last lines are kept.</param>
    /// <param name="time">The clock the batch interval runs on.</param>
    /// <param name="interval">How long output gathers before a read (<see cref="BatchInterval"/> by default).</param>
    public FunctionOutput(IEnumerable<(string Name, SafeHandle Pipe, Stream PassThrough)> streams, LogTail tail, TimeProvider time, TimeSpan? interval = null)
    {
        _sources = [.. streams.Select(s => new Source(s.Name, s.Pipe, s.PassThrough))];
        _tail = tail;
        _time = time;
        _interval = interval ?? BatchInterval;
        new Thread(Run) { IsBackground = true, Name = "function output" }.Start();
    }

    /// <summary>
    /// Completes when every pipe has reached its end: the function and any child that inherited them closed
    /// them. The reading thread ends there.
    /// </summary>
    public Task Completion => _completed.Task;

    /// <summary>Reads what the pipes hold now, so the tail and the pass-through are up to date when it returns.</summary>
    public void CatchUp()
    {
        lock (_lock)
        {
            foreach (var source in _sources)
            {
                Drain(source);
            }
        }
    }

    private void Run()
    {
        try
        {
            var busy = false;
            while (WaitForData())
            {
                if (!busy)
                {
                    // This thread is the reader's own, blocked in poll(2) the rest of the time: waiting here holds no one up.
                    Task.Delay(_interval, _time).Wait();
                }

                var read = 0L;
                lock (_lock)
                {
                    foreach (var source in _sources)
                    {
                        read += Drain(source);
                    }
                }

                busy = read >= BusyDrainBytes;
            }
        }
        finally
        {
            lock (_lock)
            {
                foreach (var source in _sources)
                {
                    source.Dispose();
                }
            }

            _completed.TrySetResult();
        }
    }

    /// <summary>Blocks until an open pipe has data or has reached its end; false when none is open.</summary>
    private unsafe bool WaitForData()
    {
        var open = _sources.Where(s => !s.Ended).ToArray();
        if (open.Length == 0)
        {
            return false;
        }

        var fds = stackalloc PollFd[open.Length];
        for (var i = 0; i < open.Length; i++)
        {
            fds[i] = new PollFd { Fd = open[i].Fd, Events = PollIn };
        }

        while (Poll(fds, (nuint)open.Length, -1) < 0 && Marshal.GetLastPInvokeError() == EIntr)
        {
        }

        return true;
    }

    /// <summary>Reads, without blocking, everything <paramref name="source"/> holds; returns the bytes read.</summary>
    private long Drain(Source source)
    {
        var total = 0L;
        while (!source.Ended && IsReadable(source.Fd))
        {
            var read = source.Read();
            if (read <= 0)
            {
                source.End(_tail);
                break;
            }

            total += read;
            source.Pass(_tail);
        }

        return total;
    }

    private static unsafe bool IsReadable(int fd)
    {
        var poll = new PollFd { Fd = fd, Events = PollIn };
        int ready;
        while ((ready = Poll(&poll, 1, 0)) < 0 && Marshal.GetLastPInvokeError() == EIntr)
        {
        }

        // POLLHUP with nothing left to read also counts: the read that follows returns 0, the end.
        return ready > 0;
    }

    /// <summary>One pipe: the bytes read but not yet passed on (an unfinished last line) sit at the buffer's start.</summary>
    private sealed class Source(string name, SafeHandle pipe, Stream passThrough) : IDisposable
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly SafeHandle _pipe = AddRef(pipe);
        private int _filled;

        public int Fd { get; } = (int)pipe.DangerousGetHandle();

        public bool Ended { get; private set; }

        public unsafe int Read()
        {
            int read;
            fixed (byte* start = &_buffer[_filled])
            {
                while ((read = (int)ReadFile(Fd, start, (nuint)(_buffer.Length - _filled))) < 0 && Marshal.GetLastPInvokeError() == EIntr)
                {
                }
            }

            _filled += Math.Max(read, 0);
            return read;
        }

        /// <summary>Passes on the whole lines read so far; a line longer than the buffer goes on in pieces.</summary>
        public void Pass(LogTail tail)
        {
            var complete = _buffer.AsSpan(0, _filled).LastIndexOf((byte)'\n') + 1;
            if (complete == 0 && _filled < _buffer.Length)
            {
                return;
            }

            var length = complete == 0 ? _filled : complete;
            Write(length);
            AddToTail(tail, _buffer.AsSpan(0, length));
            _buffer.AsSpan(length, _filled - length).CopyTo(_buffer);
            _filled -= length;
        }

        /// <summary>The pipe's end: what is left is the last line, even without its newline.</summary>
        public void End(LogTail tail)
        {
            Ended = true;
            if (_filled > 0)
            {
                Write(_filled);
                AddToTail(tail, _buffer.AsSpan(0, _filled));
                _filled = 0;
            }

            passThrough.Flush();
        }

        public void Dispose()
        {
            Ended = true;
            _pipe.DangerousRelease();
        }

        private void Write(int length)
        {
            try
            {
                passThrough.Write(_buffer, 0, length);
            }
            catch (IOException)
            {
                // Nobody reads the sidecar's own output any more (a closed pipe): the lines are still in the tail.
            }
        }

        /// <summary>Adds the last lines of <paramref name="text"/> to the tail: only as many as it keeps are decoded.</summary>
        private void AddToTail(LogTail tail, ReadOnlySpan<byte> text)
        {
            if (tail.Capacity == 0)
            {
                return;
            }

            if (!text.IsEmpty && text[^1] == '\n')
            {
                text = text[..^1];
            }

            var start = text.Length;
            for (var lines = 0; lines < tail.Capacity && start > 0; lines++)
            {
                start = text[..(start - 1)].LastIndexOf((byte)'\n') + 1;
            }

            text = text[start..];
            foreach (var range in text.Split((byte)'\n'))
            {
                var line = text[range];
                tail.Add(name, Encoding.UTF8.GetString(line.EndsWith("\r"u8) ? line[..^1] : line));
            }
        }

        // The sidecar keeps the descriptor open while it reads, even if the Process that made it is disposed.
        private static SafeHandle AddRef(SafeHandle handle)
        {
            var added = false;
            handle.DangerousAddRef(ref added);
            return handle;
        }
    }

    private const short PollIn = 0x1;
    private const int EIntr = 4;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadFile(int fd, byte* buffer, nuint count);
}
