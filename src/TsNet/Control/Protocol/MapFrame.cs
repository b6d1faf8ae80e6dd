using System.Buffers.Binary;
using System.Text.Json;
using ZstdSharp;

namespace TsNet.Control.Protocol;

/// <summary>
/// The map stream's framing (protocol doc §9.2): a 4-byte little-endian length, then that many bytes of JSON, or,
/// when the request asked for <c>zstd</c>, one zstd frame holding the JSON. Sans-IO: this decodes one payload;
/// <see cref="MapFrameReader"/> reads frames from a stream.
/// </summary>
internal static class MapFrame
{
    /// <summary>Size of the length prefix.</summary>
    public const int HeaderBytes = 4;

    /// <summary>
    /// Largest frame (payload as sent) accepted: 16 MiB. A compressed 10 000-peer map is far below it; Go's own
    /// client caps at 4 MiB, its test server refuses to send more than 256 MiB. Bigger frames are refused before
    /// anything is allocated for them.
    /// </summary>
    public const int DefaultMaxFrameBytes = 16 << 20;

    /// <summary>Largest decompressed JSON accepted: 64 MiB (bounds a zstd bomb; about 50 000 peers of JSON).</summary>
    public const int DefaultMaxDecodedBytes = 64 << 20;

    // Largest decoded/encoded ratio decoded straight into a buffer of the declared size (JSON maps compress about
    // 12 to 1): a header that declares more is not trusted to size an allocation.
    private const ulong MaxDeclaredRatio = 64;

    /// <summary>The uncompressed keep-alive message.</summary>
    public static ReadOnlySpan<byte> KeepAliveJson => """{"KeepAlive":true}"""u8;

    /// <summary>The frame length in <paramref name="header"/>.</summary>
    public static uint ReadLength(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32LittleEndian(header);

    /// <summary>Writes <paramref name="payload"/> as one frame (the fake servers in tests use this).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderBytes + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(HeaderBytes));
        return frame;
    }

    /// <summary>
    /// Parses one frame's payload. <paramref name="zstd"/>: the payload is a zstd frame (its content size may be
    /// missing, as in the Go server's keep-alives, so this decodes as a stream).
    /// </summary>
    /// <exception cref="ControlProtocolException">Bad zstd, JSON larger than <paramref name="maxDecodedBytes"/>, or bad JSON.</exception>
    public static MapResponse Decode(ReadOnlySpan<byte> payload, bool zstd, int maxDecodedBytes = DefaultMaxDecodedBytes)
    {
        if (!zstd)
        {
            return Parse(payload);
        }

        var json = Decompress(payload, maxDecodedBytes);
        return Parse(json);
    }

    /// <summary>Decompresses one zstd frame of unknown content size into at most <paramref name="maxDecodedBytes"/>.</summary>
    /// <exception cref="ControlProtocolException">Not zstd, truncated, or too large once decoded.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> payload, int maxDecodedBytes = DefaultMaxDecodedBytes)
    {
        // A declared size far beyond what zstd makes of such input is taken as a hint only: the stream path decides.
        if (DeclaredContentSize(payload) is { } declared && declared <= (ulong)payload.Length * MaxDeclaredRatio)
        {
            if (declared > (ulong)maxDecodedBytes)
            {
                throw new ControlProtocolException($"A map message decompresses to more than {maxDecodedBytes} bytes.");
            }

            if (TryDecompressDeclared(payload, (int)declared) is { } json)
            {
                return json;
            }
        }

        try
        {
            using var input = new MemoryStream(payload.ToArray(), writable: false);
            using var decoder = new DecompressionStream(input);
            using var output = new MemoryStream(Math.Min(maxDecodedBytes, Math.Max(256, payload.Length * 4)));
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = decoder.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + read > maxDecodedBytes)
                {
                    throw new ControlProtocolException($"A map message decompresses to more than {maxDecodedBytes} bytes.");
                }

                output.Write(buffer, 0, read);
            }

            return output.ToArray();
        }
        catch (ZstdException e)
        {
            throw new ControlProtocolException("A map message is not valid zstd: " + e.Message, e);
        }
        catch (EndOfStreamException e)
        {
            throw new ControlProtocolException("A map message holds a truncated zstd frame.", e);
        }
    }

    /// <summary>
    /// A frame that declares its size (Go's encoder does for whole messages) decodes straight into an array of that
    /// size: one allocation, where the stream path copies the input, grows a buffer and copies it out (for a 10 000-peer
    /// map, about 25 MB of large-object allocations instead of 7). Null when the frame does not decode to exactly the
    /// declared size (more frames follow, or it is bad): the stream path then decides, as before.
    /// </summary>
    private static byte[]? TryDecompressDeclared(ReadOnlySpan<byte> payload, int size)
    {
        var json = new byte[size];
        try
        {
            using var decompressor = new Decompressor();
            return decompressor.Unwrap(payload, json) == size ? json : null;
        }
        catch (ZstdException)
        {
            return null;
        }
    }

    /// <summary>The content size in the first zstd frame's header (RFC 8878 §3.1.1.1), or null when it has none or is no frame.</summary>
    internal static ulong? DeclaredContentSize(ReadOnlySpan<byte> frame)
    {
        const uint Magic = 0xFD2FB528;
        if (frame.Length < 5 || BinaryPrimitives.ReadUInt32LittleEndian(frame) != Magic)
        {
            return null;
        }

        var descriptor = frame[4];
        var sizeFlag = descriptor >> 6;
        var singleSegment = (descriptor & 0x20) != 0;
        var dictionaryBytes = (descriptor & 0x03) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 };
        var fieldBytes = sizeFlag switch { 0 => singleSegment ? 1 : 0, 1 => 2, 2 => 4, _ => 8 };
        var offset = 5 + (singleSegment ? 0 : 1) + dictionaryBytes;
        if (fieldBytes == 0 || frame.Length < offset + fieldBytes)
        {
            return null;
        }

        var field = frame.Slice(offset, fieldBytes);
        return fieldBytes switch
        {
            1 => field[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(field) + 256UL,
            4 => BinaryPrimitives.ReadUInt32LittleEndian(field),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(field),
        };
    }

    private static MapResponse Parse(ReadOnlySpan<byte> json)
    {
        if (json.SequenceEqual(KeepAliveJson))
        {
            return KeepAliveResponse;
        }

        try
        {
            return JsonSerializer.Deserialize(json, ControlJsonContext.Default.MapResponse)
                ?? throw new ControlProtocolException("A map message is JSON null.");
        }
        catch (JsonException e)
        {
            throw new ControlProtocolException("A map message is not valid JSON: " + e.Message, e);
        }
    }

    /// <summary>The one keep-alive instance (keep-alives are common; they need no allocation).</summary>
    public static MapResponse KeepAliveResponse { get; } = new() { KeepAlive = true };
}
