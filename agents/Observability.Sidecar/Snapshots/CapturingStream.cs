namespace Observability.Sidecar.Snapshots;

/// <summary>
/// Passes a body through unchanged and keeps its first bytes (up to a cap) for a failure snapshot, so the
/// request and response can be shown without buffering the stream or slowing it: one copy of at most the cap.
/// </summary>
public sealed class CapturingStream(Stream inner, int cap) : Stream
{
    private byte[]? _head;
    private int _headLength;

    /// <summary>All bytes that went through, including those past the cap.</summary>
    public long TotalBytes { get; private set; }

    public ReadOnlySpan<byte> Head => _head.AsSpan(0, _headLength);

    public bool Truncated => TotalBytes > _headLength;

    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => inner.CanWrite;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        Keep(buffer[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Keep(buffer.Span[..read]);
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Keep(buffer);
        inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Keep(buffer.Span);
        return inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private void Keep(ReadOnlySpan<byte> bytes)
    {
        TotalBytes += bytes.Length;
        var room = cap - _headLength;
        if (room <= 0 || bytes.IsEmpty)
        {
            return;
        }

        var take = Math.Min(room, bytes.Length);
        if (_head is null || _head.Length < _headLength + take)
        {
            // Grow as bytes come: most bodies are far smaller than the cap, and this runs on every request.
            Array.Resize(ref _head, Math.Min(cap, Math.Max(256, (_headLength + take) * 2)));
        }

        bytes[..take].CopyTo(_head.AsSpan(_headLength));
        _headLength += take;
    }
}
