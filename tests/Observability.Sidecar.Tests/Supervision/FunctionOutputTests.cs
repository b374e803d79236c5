using System.IO.Pipes;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Observability.Sidecar.Supervision;
using Observability.Testing;

namespace Observability.Sidecar.Tests.Supervision;

/// <summary>The function's output read from real pipes, as the supervisor reads its child's stdout and stderr.</summary>
public sealed class FunctionOutputTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    private readonly AnonymousPipeServerStream _stdoutRead = new(PipeDirection.In);
    private readonly AnonymousPipeServerStream _stderrRead = new(PipeDirection.In);
    private readonly AnonymousPipeClientStream _stdout;
    private readonly AnonymousPipeClientStream _stderr;
    private readonly RecordingStream _passedOut = new();
    private readonly RecordingStream _passedErr = new();
    private readonly BatchClock _clock = new();

    public FunctionOutputTests()
    {
        _stdout = new AnonymousPipeClientStream(PipeDirection.Out, _stdoutRead.ClientSafePipeHandle);
        _stderr = new AnonymousPipeClientStream(PipeDirection.Out, _stderrRead.ClientSafePipeHandle);
    }

    [Fact]
    public async Task Lines_written_one_by_one_are_passed_on_in_one_write_per_batch_and_the_tail_keeps_the_last()
    {
        var tail = new LogTail(3);
        Start(tail);
        Write(_stdout, "line 1\n");
        await ReaderWaitsOutBatchAsync(1);

        var expected = new StringBuilder("line 1\n");
        for (var i = 2; i <= 40; i++)
        {
            Write(_stdout, $"line {i}\n");
            expected.Append($"line {i}\n");
        }

        Write(_stderr, "oops\r\n");
        _clock.Advance(Interval);
        await Poll.UntilAsync(() => Task.FromResult(_passedErr.Text), t => t.Length > 0, what: "the batch passed on");

        Assert.Equal(expected.ToString(), _passedOut.Text);
        Assert.Equal("oops\r\n", _passedErr.Text);
        // Forty writes of the function, one of the sidecar (and one wake-up of its reader).
        Assert.Equal(1, _passedOut.Writes);
        Assert.Equal(["stdout: line 39", "stdout: line 40", "stderr: oops"], tail.Snapshot());
    }

    [Fact]
    public async Task A_line_goes_on_only_when_complete_and_an_unfinished_last_line_at_the_end()
    {
        var tail = new LogTail(10);
        var output = Start(tail);
        Write(_stdout, "abc");
        output.CatchUp();
        Assert.Equal("", _passedOut.Text);
        Assert.Empty(tail.Snapshot());

        Write(_stdout, "def\nxyz");
        output.CatchUp();
        Assert.Equal("abcdef\n", _passedOut.Text);

        CloseWriters();
        await ReaderWaitsOutBatchAsync(1);
        _clock.Advance(Interval);
        await output.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("abcdef\nxyz", _passedOut.Text);
        Assert.Equal(["stdout: abcdef", "stdout: xyz"], tail.Snapshot());
    }

    [Fact]
    public async Task Catching_up_reads_what_the_pipe_holds_without_waiting_for_the_batch()
    {
        var tail = new LogTail(10);
        var output = Start(tail);
        Write(_stdout, "first\n");
        await ReaderWaitsOutBatchAsync(1);
        Write(_stdout, "the error, just before the 500\n");
        Assert.Empty(tail.Snapshot());

        output.CatchUp(); // the clock has not moved: only this reads
        Assert.Equal(["stdout: first", "stdout: the error, just before the 500"], tail.Snapshot());
        Assert.Equal("first\nthe error, just before the 500\n", _passedOut.Text);
    }

    public void Dispose()
    {
        CloseWriters();
        _stdoutRead.Dispose();
        _stderrRead.Dispose();
    }

    private FunctionOutput Start(LogTail tail) => new(
        [("stdout", _stdoutRead.SafePipeHandle, _passedOut), ("stderr", _stderrRead.SafePipeHandle, _passedErr)], tail, _clock, Interval);

    /// <summary>Until the reader has seen data and started waiting out its batch (its <paramref name="count"/>th wait).</summary>
    private async Task ReaderWaitsOutBatchAsync(int count) =>
        await Poll.UntilAsync(() => Task.FromResult(_clock.Waits), n => n >= count, what: $"the reader's wait number {count}");

    private static void Write(Stream pipe, string text)
    {
        pipe.Write(Encoding.UTF8.GetBytes(text));
        pipe.Flush();
    }

    private void CloseWriters()
    {
        _stdout.Dispose();
        _stderr.Dispose();
        _stdoutRead.DisposeLocalCopyOfClientHandle();
        _stderrRead.DisposeLocalCopyOfClientHandle();
    }

    /// <summary>A fake clock that tells how many times the reader has started waiting out a batch.</summary>
    private sealed class BatchClock : FakeTimeProvider
    {
        private int _waits;

        public int Waits => Volatile.Read(ref _waits);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            // Counted once the timer is registered: a test that saw the wait and advanced the clock before that
            // would leave the timer due after the advance, and the reader waiting for ever (seen once under load).
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _waits);
            return timer;
        }
    }

    /// <summary>A pass-through target that counts its writes.</summary>
    private sealed class RecordingStream : MemoryStream
    {
        private readonly Lock _lock = new();

        public int Writes { get; private set; }

        public string Text
        {
            get
            {
                lock (_lock)
                {
                    return Encoding.UTF8.GetString(ToArray());
                }
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_lock)
            {
                Writes++;
                base.Write(buffer, offset, count);
            }
        }
    }
}
