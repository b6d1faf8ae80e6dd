using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;

namespace TsNet.Tool.Http;

/// <summary>
/// A request's body, read straight from the connection as the application asks for it (never buffered whole):
/// <c>Content-Length</c> bytes, or chunked transfer coding (RFC 9112 §7.1) decoded on the fly, trailers discarded.
/// Reading a body the client announced with <c>Expect: 100-continue</c> first sends <c>100 Continue</c>.
/// </summary>
internal sealed class HttpRequestBody
{
    // A chunk-size line is hex digits plus optional extensions; 4 KiB is far above anything real and bounds buffering.
    private const int MaxChunkLineBytes = 4096;

    // 15 hex digits = 60 bits: cannot overflow a long.
    private const int MaxChunkSizeDigits = 15;

    private readonly PipeReader _reader;
    private readonly int _maxTrailerBytes;
    private readonly IdleWatchdog? _watchdog;
    private readonly TimeSpan _idleTimeout;
    private Func<CancellationToken, ValueTask>? _sendContinue;
    private State _state;
    private long _remaining;
    private int _trailerBytes;

    /// <summary>A body framed as <paramref name="head"/> says, read from <paramref name="reader"/>.</summary>
    /// <param name="reader">The connection's bytes right after the head.</param>
    /// <param name="head">The request head (framing and expectation).</param>
    /// <param name="maxTrailerBytes">Bound on the chunked trailer section.</param>
    /// <param name="sendContinue">Writes <c>100 Continue</c>; called before the first read when the client expects it.</param>
    /// <param name="watchdog">Restarted with <paramref name="idleTimeout"/> before each read from the connection (null: none).</param>
    /// <param name="idleTimeout">How long one read may wait for bytes.</param>
    public HttpRequestBody(PipeReader reader, HttpRequestHead head, int maxTrailerBytes, Func<CancellationToken, ValueTask>? sendContinue, IdleWatchdog? watchdog = null, TimeSpan idleTimeout = default)
    {
        _reader = reader;
        _maxTrailerBytes = maxTrailerBytes;
        _watchdog = watchdog;
        _idleTimeout = idleTimeout;
        _sendContinue = head.ExpectContinue ? sendContinue : null;
        if (head.Chunked)
        {
            _state = State.ChunkSize;
        }
        else if (head.ContentLength > 0)
        {
            _state = State.Fixed;
            _remaining = head.ContentLength.Value;
        }
        else
        {
            _state = State.Done;
        }
    }

    private enum State
    {
        Fixed,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        Done,
    }

    /// <summary>True once the whole body (including a chunked body's trailers) has been read.</summary>
    public bool IsComplete => _state == State.Done;

    /// <summary>True when the client was told to send its body (or did not ask to be told).</summary>
    public bool ContinueSentOrNotExpected => _sendContinue is null;

    /// <summary>Body bytes delivered so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Reads body bytes into <paramref name="destination"/>; 0 at the end of the body.</summary>
    /// <exception cref="HttpRequestRejectedException">The framing is malformed, or the connection ended inside the body.</exception>
    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_state == State.Done || destination.IsEmpty)
        {
            return 0;
        }

        if (_sendContinue is { } sendContinue)
        {
            _sendContinue = null;
            await sendContinue(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            _watchdog?.Restart(_idleTimeout);
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var copied = Step(ref buffer, destination.Span, out var consumed);
            _reader.AdvanceTo(consumed, buffer.End);
            if (copied > 0 || _state == State.Done)
            {
                BytesRead += copied;
                return copied;
            }

            if (result.IsCompleted)
            {
                throw new HttpRequestRejectedException("connection closed inside the request body");
            }
        }
    }

    /// <summary>Reads and discards the rest of the body; false (leaving it unread) when more than <paramref name="limit"/> bytes remain.</summary>
    public async ValueTask<bool> TryDrainAsync(long limit, CancellationToken cancellationToken)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            var start = BytesRead;
            while (!IsComplete)
            {
                if (BytesRead - start > limit || (_state == State.Fixed && _remaining > limit - (BytesRead - start)))
                {
                    return false;
                }

                await ReadAsync(scratch, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    // Advances the state machine over the buffered bytes; copies body bytes into destination. Stops after copying
    // some bytes (so the caller returns them) or when the buffer holds no complete element.
    private int Step(ref ReadOnlySequence<byte> buffer, Span<byte> destination, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        var copied = 0;
        while (copied == 0 && _state != State.Done)
        {
            if (_state is State.Fixed or State.ChunkData)
            {
                var take = (int)Math.Min(Math.Min(_remaining, destination.Length), reader.Remaining);
                if (take == 0)
                {
                    break;
                }

                reader.UnreadSequence.Slice(0, take).CopyTo(destination);
                reader.Advance(take);
                copied = take;
                _remaining -= take;
                if (_remaining == 0)
                {
                    _state = _state == State.Fixed ? State.Done : State.ChunkDataEnd;
                }

                continue;
            }

            if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            {
                var limit = _state == State.Trailers ? _maxTrailerBytes - _trailerBytes : MaxChunkLineBytes;
                if (reader.Remaining > limit)
                {
                    throw new HttpRequestRejectedException(_state == State.Trailers ? "chunked trailers too large" : "chunk-size line too long");
                }

                break;
            }

            var text = TrimCr(line);
            switch (_state)
            {
                case State.ChunkSize:
                    _remaining = ParseChunkSize(text);
                    _state = _remaining == 0 ? State.Trailers : State.ChunkData;
                    break;
                case State.ChunkDataEnd:
                    if (text.Length != 0)
                    {
                        throw new HttpRequestRejectedException("chunk data longer than its chunk-size");
                    }

                    _state = State.ChunkSize;
                    break;
                case State.Trailers:
                    _trailerBytes += (int)line.Length + 1;
                    if (_trailerBytes > _maxTrailerBytes)
                    {
                        throw new HttpRequestRejectedException("chunked trailers too large");
                    }

                    if (text.Length == 0)
                    {
                        _state = State.Done;
                    }

                    break;
            }
        }

        consumed = reader.Position;
        buffer = buffer.Slice(consumed);
        return copied;
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySequence<byte> line)
    {
        if (line.Length > MaxChunkLineBytes)
        {
            throw new HttpRequestRejectedException("chunk-size line too long");
        }

        var bytes = line.ToArray().AsSpan();
        return bytes.Length > 0 && bytes[^1] == (byte)'\r' ? bytes[..^1] : bytes;
    }

    // chunk-size [ chunk-ext ]: hex digits, then optionally ';' extensions (ignored) after optional whitespace.
    private static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        var digits = 0;
        while (digits < line.Length && char.IsAsciiHexDigit((char)line[digits]))
        {
            digits++;
        }

        if (digits == 0 || digits > MaxChunkSizeDigits)
        {
            throw new HttpRequestRejectedException("malformed chunk-size");
        }

        var rest = line[digits..].TrimStart(" \t"u8);
        if (rest.Length > 0 && rest[0] != (byte)';')
        {
            throw new HttpRequestRejectedException("malformed chunk-size");
        }

        return long.Parse(System.Text.Encoding.ASCII.GetString(line[..digits]), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }
}
