using System.Buffers.Binary;

namespace TsNet.Paths;

/// <summary>A 12-byte transaction id (disco ping, STUN request) as a value, compared and stored without allocating.</summary>
internal readonly record struct TransactionId(ulong Head, uint Tail)
{
    /// <summary>Length on the wire.</summary>
    public const int Length = 12;

    /// <summary>Reads the first 12 bytes of <paramref name="source"/>.</summary>
    public static TransactionId Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(source), BinaryPrimitives.ReadUInt32BigEndian(source[8..]));

    /// <summary>Writes the 12 bytes.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, Head);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Tail);
    }
}
