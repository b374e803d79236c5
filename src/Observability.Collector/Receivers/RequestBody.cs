using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Observability.Collector.Receivers;

/// <summary>A request body read whole into a pooled buffer, decompressed, within a size cap.</summary>
internal sealed class RequestBody : IDisposable
{
    private byte[] _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <exception cref="BodyTooLargeException">More than <paramref name="limit"/> bytes after decompression.</exception>
    /// <exception cref="InvalidDataException">The gzip stream is corrupt or truncated.</exception>
    public static async Task<RequestBody> ReadAsync(Stream body, bool gzip, int limit, CancellationToken ct)
    {
        var raw = await ReadAllAsync(body, limit, ct);
        if (!gzip)
        {
            return raw;
        }

        using (raw)
        {
            if (raw.Length < 18)
            {
                throw new InvalidDataException("the gzip body is truncated");
            }

            await using var inflate = new GZipStream(new MemoryStream(raw._buffer, 0, raw.Length, writable: false), CompressionMode.Decompress);
            var result = await ReadAllAsync(inflate, limit, ct);
            // GZipStream ends quietly on a truncated stream. The last member's trailer tells: its CRC-32 and
            // ISIZE must match the last ISIZE bytes decompressed (earlier members, if any, come before them).
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(raw.Span[^8..^4]);
            var isize = BinaryPrimitives.ReadUInt32LittleEndian(raw.Span[^4..]);
            if (isize > (uint)result.Length || System.IO.Hashing.Crc32.HashToUInt32(result.Span[^(int)isize..]) != crc)
            {
                result.Dispose();
                throw new InvalidDataException("the gzip body is truncated or corrupt");
            }

            return result;
        }
    }

    private static async Task<RequestBody> ReadAllAsync(Stream stream, int limit, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        throw new BodyTooLargeException(limit);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), ct);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length > limit)
            {
                throw new BodyTooLargeException(limit);
            }

            return new RequestBody(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    // How much of a body past its cap is read and dropped, and for how long, before the 413 (DrainAsync).
    private const int DrainBytes = 4 * 1024 * 1024;
    private static readonly TimeSpan DrainBound = TimeSpan.FromSeconds(2);

    /// <summary>Sets Kestrel's cap of this request a little above <paramref name="cap"/>, so that DrainAsync can read past it.</summary>
    public static void AllowDrainPast(HttpContext http, long cap)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } kestrelCap)
        {
            kestrelCap.MaxRequestBodySize = cap + DrainBytes;
        }
    }

    /// <summary>
    /// Reads and drops what is left of a refused body (up to the cap AllowDrainPast set, for at most two seconds),
    /// so that the client finishes sending and reads the refusal: a connection closed with unread bytes is
    /// reset, and the reset can reach the client before the answer does. A body not read to its end leaves the
    /// connection unusable, and the answer says so (<see cref="CloseAfterResponse"/>).
    /// </summary>
    public static async Task DrainAsync(HttpContext http)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(DrainBound);
        try
        {
            while (await http.Request.Body.ReadAsync(scratch, timeout.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is Microsoft.AspNetCore.Http.BadHttpRequestException or OperationCanceledException or IOException)
        {
            // More than the server reads at all, or too slow: nothing more to do for this client.
            CloseAfterResponse(http);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Answers with Connection: close, for a refusal that leaves the body unread: the server closes the connection
    /// after the answer, and a client not told so may send its next request on it and get no answer at all.
    /// </summary>
    public static void CloseAfterResponse(HttpContext http) => http.Response.Headers.Connection = "close";

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}

internal sealed class BodyTooLargeException(int limit) : Exception($"the request body is larger than {limit} bytes after decompression");
