using System.IO.Pipes;
using System.Text;
using Observability.Sidecar.Supervision;
using Observability.Testing;

namespace Observability.Sidecar.Tests.Supervision;

/// <summary>The function's output read from real pipes, as the supervisor reads its child's stdout and stderr.</summary>
public sealed class FunctionOutputTests : IDisposable
{
    private readonly AnonymousPipeServerStream _stdoutRead = new(PipeDirection.In);
    private readonly AnonymousPipeServerStream _stderrRead = new(PipeDirection.In);
    private readonly AnonymousPipeClientStream _stdout;
    private readonly AnonymousPipeClientStream _stderr;
    private readonly RecordingStream _passedOut = new();
    private readonly RecordingStream _passedErr = new();

    public FunctionOutputTests()
    {
        _stdout = new AnonymousPipeClientStream(PipeDirection.Out, _stdoutRead.ClientSafePipeHandle);
        _stderr = new AnonymousPipeClientStream(PipeDirection.Out, _stderrRead.ClientSafePipeHandle);
    }

    [Fact]
    public async Task Lines_written_one_by_one_are_passed_on_in_a_few_writes_and_the_tail_keeps_the_last()
    {
        var tail = new LogTail(3);
        var output = Start(tail, TimeSpan.FromSeconds(1)); // long enough for all 40 lines, even on a loaded machine
        var expected = new StringBuilder();
        for (var i = 1; i <= 40; i++)
        {
            Write(_stdout, $"line {i}\n");
            expected.Append($"line {i}\n");
            await Task.Delay(1);
        }

        Write(_stderr, "oops\r\n");
        CloseWriters();
        await output.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(expected.ToString(), _passedOut.Text);
        Assert.Equal("oops\r\n", _passedErr.Text);
        // Without the batching each line would be a write of its own (and a wake-up of the reader).
        Assert.InRange(_passedOut.Writes, 1, 3);
        Assert.Equal(["stdout: line 39", "stdout: line 40", "stderr: oops"], tail.Snapshot());
    }

    [Fact]
    public async Task A_line_goes_on_only_when_complete_and_an_unfinished_last_line_at_the_end()
    {
        var tail = new LogTail(10);
        var output = Start(tail, TimeSpan.FromMilliseconds(5));
        Write(_stdout, "abc");
        await Task.Delay(200);
        Assert.Equal("", _passedOut.Text);

        Write(_stdout, "def\nxyz");
        await Poll.UntilAsync(() => Task.FromResult(_passedOut.Text), t => t.Length > 0, TimeSpan.FromSeconds(10), "the first line");
        Assert.Equal("abcdef\n", _passedOut.Text);

        CloseWriters();
        await output.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("abcdef\nxyz", _passedOut.Text);
        Assert.Equal(["stdout: abcdef", "stdout: xyz"], tail.Snapshot());
    }

    [Fact]
    public async Task Catching_up_reads_what_the_pipe_holds_without_waiting_for_the_batch()
    {
        var tail = new LogTail(10);
        var output = Start(tail, TimeSpan.FromMinutes(5));
        Write(_stdout, "first\n");
        // The reader has seen data and now lets the batch gather: nothing is read for five minutes.
        await Task.Delay(200);
        Write(_stdout, "the error, just before the 500\n");
        Assert.Empty(tail.Snapshot());

        output.CatchUp();
        Assert.Equal(["stdout: first", "stdout: the error, just before the 500"], tail.Snapshot());
        Assert.Equal("first\nthe error, just before the 500\n", _passedOut.Text);
    }

    public void Dispose()
    {
        CloseWriters();
        _stdoutRead.Dispose();
        _stderrRead.Dispose();
    }

    private FunctionOutput Start(LogTail tail, TimeSpan interval) => new(
        [("stdout", _stdoutRead.SafePipeHandle, _passedOut), ("stderr", _stderrRead.SafePipeHandle, _passedErr)], tail, interval);

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
