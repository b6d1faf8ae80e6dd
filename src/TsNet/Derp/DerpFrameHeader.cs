using System.Buffers.Binary;

namespace TsNet.Derp;

/// <summary>A DERP frame header: type and payload length.</summary>
/// <param name="Type">The frame type (unknown values are possible and are skipped).</param>
/// <param name="Length">The payload length in bytes.</param>
internal readonly record struct DerpFrameHeader(DerpFrameType Type, uint Length)
{
    private const int TypeOffset = 0;
    private const int LengthOffset = 1;

    /// <summary>Reads a header from the first 5 bytes; false when fewer are given.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out DerpFrameHeader header)
    {
        if (bytes.Length < DerpProtocol.FrameHeaderSize)
        {
            header = default;
            return false;
        }

        header = new((DerpFrameType)bytes[TypeOffset], BinaryPrimitives.ReadUInt32BigEndian(bytes[LengthOffset..]));
        return true;
    }

    /// <summary>Writes a header into the first 5 bytes of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, DerpFrameType type, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        destination[TypeOffset] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(destination[LengthOffset..DerpProtocol.FrameHeaderSize], (uint)length);
    }
}
