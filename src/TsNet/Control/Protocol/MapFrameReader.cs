using System.Buffers;

namespace TsNet.Control.Protocol;

/// <summary>
/// Reads <see cref="MapResponse"/>s from a map poll's response body, one frame at a time. Memory is bounded by the
/// frame limits of <see cref="MapFrame"/>; a truncated or oversized frame ends the stream with a
/// <see cref="ControlProtocolException"/>. Not thread-safe: one reader per stream.
/// </summary>
internal sealed class MapFrameReader
{
    private readonly Stream _stream;
    private readonly bool _zstd;
    private readonly int _maxFrameBytes;
    private readonly int _maxDecodedBytes;
    private readonly byte[] _header = new byte[MapFrame.HeaderBytes];

    // The server's compressed keep-alive, learned from the first one: later identical frames need no decoder.
    private byte[]? _compressedKeepAlive;

    /// <summary>Creates a reader over <paramref name="stream"/>; <paramref name="zstd"/> when the request asked for it.</summary>
    public MapFrameReader(Stream stream, bool zstd, int maxFrameBytes = MapFrame.DefaultMaxFrameBytes, int maxDecodedBytes = MapFrame.DefaultMaxDecodedBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFrameBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDecodedBytes);
        _stream = stream;
        _zstd = zstd;
        _maxFrameBytes = maxFrameBytes;
        _maxDecodedBytes = maxDecodedBytes;
    }

    /// <summary>Frames read so far (keep-alives included).</summary>
    public long FramesRead { get; private set; }

    /// <summary>The next message, or null when the stream ended cleanly between frames.</summary>
    /// <exception cref="ControlProtocolException">Truncated frame, frame above the limit, bad zstd or JSON.</exception>
    public async ValueTask<MapResponse?> ReadAsync(CancellationToken cancellationToken)
    {
        var headerRead = await ReadAtLeastAsync(_header, cancellationToken).ConfigureAwait(false);
        if (headerRead == 0)
        {
            return null;
        }

        if (headerRead < MapFrame.HeaderBytes)
        {
            throw new ControlProtocolException($"The map stream ended inside a frame header ({headerRead} of 4 bytes).");
        }

        var length = MapFrame.ReadLength(_header);
        if (length > (uint)_maxFrameBytes)
        {
            throw new ControlProtocolException($"A map frame of {length} bytes is above the limit of {_maxFrameBytes} bytes.");
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
        try
        {
            var payload = buffer.AsMemory(0, (int)length);
            var read = await ReadAtLeastAsync(payload, cancellationToken).ConfigureAwait(false);
            if (read < length)
            {
                throw new ControlProtocolException($"The map stream ended inside a frame ({read} of {length} bytes).");
            }

            FramesRead++;
            return Decode(payload.Span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private MapResponse Decode(ReadOnlySpan<byte> payload)
    {
        if (!_zstd)
        {
            return MapFrame.Decode(payload, zstd: false, _maxDecodedBytes);
        }

        if (_compressedKeepAlive is { } known && payload.SequenceEqual(known))
        {
            return MapFrame.KeepAliveResponse;
        }

        var json = MapFrame.Decompress(payload, _maxDecodedBytes);
        var response = MapFrame.Decode(json, zstd: false, _maxDecodedBytes);
        if (ReferenceEquals(response, MapFrame.KeepAliveResponse))
        {
            _compressedKeepAlive = payload.ToArray();
        }

        return response;
    }

    private async ValueTask<int> ReadAtLeastAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        buffer.Length == 0
            ? 0
            : await _stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
}
