using System.Buffers;
using System.IO.Pipelines;

namespace Observability.Sidecar.Proxy;

/// <summary>
/// The client's response body as the proxy writes it: bytes go into Kestrel's pipe unflushed, and are flushed
/// when the function has nothing more ready (the copy is about to wait for it) or when 64 KiB are pending.
/// A small response then leaves in one send together with its end (a chunked response's terminator), where a
/// flush per write cost a second send, and a second wake-up of the client, per request. Streamed responses
/// still flow as they come: every wait for the function flushes first.
/// </summary>
internal sealed class CoalescedResponseBody(PipeWriter writer) : Stream
{
    private const int MaxPending = 64 * 1024;

    private int _pending;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// The function's response content, to be read through a stream that flushes this body before it waits.
    /// Only the body: YARP has already copied the headers to the client's response and reads nothing else from it.
    /// </summary>
    public async Task<HttpContent> FlushBeforeWaitingAsync(HttpContent content, CancellationToken cancellationToken) =>
        new StreamContent(new FlushingStream(await content.ReadAsStreamAsync(cancellationToken), this));

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        writer.Write(buffer);
        _pending += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return _pending >= MaxPending ? new ValueTask(FlushAsync(cancellationToken)) : default;
    }

    // Only asynchronous flushes: blocking would stall an I/O thread (see InlineIo).
    public override void Flush() => throw new NotSupportedException("The proxied response body flushes asynchronously only.");

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        _pending = 0;
        await writer.FlushAsync(cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private Task FlushPendingAsync(CancellationToken cancellationToken) => _pending > 0 ? FlushAsync(cancellationToken) : Task.CompletedTask;

    /// <summary>Reads the function's response; a read that cannot complete at once first flushes what the client has not got yet.</summary>
    private sealed class FlushingStream(Stream inner, CoalescedResponseBody body) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = inner.ReadAsync(buffer, cancellationToken);
            return read.IsCompleted ? read : FlushThenAwait(read, cancellationToken);
        }

        public override void Flush()
        {
        }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        // The read is awaited before the flush's outcome, so it is always observed; the send itself starts at once.
        private async ValueTask<int> FlushThenAwait(ValueTask<int> read, CancellationToken cancellationToken)
        {
            var flush = body.FlushPendingAsync(cancellationToken);
            var count = await read;
            await flush;
            return count;
        }
    }
}
