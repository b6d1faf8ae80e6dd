using System.Runtime.CompilerServices;

namespace TsNet.Derp;

/// <summary>
/// Reads DERP frames from a stream through its own buffer: the HTTP upgrade response head first, then 5-byte frame
/// headers and payloads. One reader task only. Frames longer than <see cref="DerpProtocol.MaxFrameLength"/> are refused.
/// </summary>
internal sealed class DerpFrameReader
{
    /// <summary>Read buffer size: many small frames per read; big payloads are read straight into the caller's buffer.</summary>
    public const int BufferSize = 16 * 1024;

    /// <summary>Longest HTTP response head accepted before the DERP frames start.</summary>
    public const int MaxHttpHeadLength = 8 * 1024;

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _start;
    private int _end;

    /// <summary>Reads from <paramref name="stream"/>.</summary>
    public DerpFrameReader(Stream stream)
    {
        _stream = stream;
    }

    private int Buffered => _end - _start;

    /// <summary>
    /// Reads the HTTP/1.1 response head (up to and including the blank line) and returns it as text; bytes after it
    /// stay buffered as the start of the DERP stream.
    /// </summary>
    public async ValueTask<string> ReadHttpHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var end = _buffer.AsSpan(_start, Buffered).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var head = System.Text.Encoding.ASCII.GetString(_buffer, _start, end);
                _start += end + 4;
                return head;
            }

            if (Buffered >= MaxHttpHeadLength)
            {
                throw new DerpProtocolException("The DERP server's HTTP response head is too long.");
            }

            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the next frame header; throws <see cref="DerpProtocolException"/> for a frame over 1 MiB and <see cref="EndOfStreamException"/> at the end.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<DerpFrameHeader> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        while (Buffered < DerpProtocol.FrameHeaderSize)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }

        DerpFrameHeader.TryRead(_buffer.AsSpan(_start, DerpProtocol.FrameHeaderSize), out var header);
        _start += DerpProtocol.FrameHeaderSize;
        if (header.Length > DerpProtocol.MaxFrameLength)
        {
            throw new DerpProtocolException($"A DERP frame of type {(byte)header.Type} is {header.Length} bytes (more than 1 MiB).");
        }

        return header;
    }

    /// <summary>Reads exactly <paramref name="destination"/>.Length payload bytes.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadPayloadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        var fromBuffer = Math.Min(Buffered, destination.Length);
        _buffer.AsSpan(_start, fromBuffer).CopyTo(destination.Span);
        _start += fromBuffer;
        var rest = destination[fromBuffer..];
        if (rest.IsEmpty)
        {
            return;
        }

        if (rest.Length >= BufferSize / 2)
        {
            // Big payloads (packets) go straight into the caller's buffer: one copy fewer.
            await _stream.ReadExactlyAsync(rest, cancellationToken).ConfigureAwait(false);
            return;
        }

        while (Buffered < rest.Length)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }

        _buffer.AsSpan(_start, rest.Length).CopyTo(rest.Span);
        _start += rest.Length;
    }

    /// <summary>Discards <paramref name="count"/> payload bytes (unknown or unwanted frames).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SkipAsync(long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (Buffered == 0)
            {
                await FillAsync(cancellationToken).ConfigureAwait(false);
            }

            var take = (int)Math.Min(Buffered, count);
            _start += take;
            count -= take;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, Buffered).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new EndOfStreamException("The DERP server closed the connection.");
        }

        _end += read;
    }
}
