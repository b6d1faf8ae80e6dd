using System.Buffers.Binary;

namespace TsNet.WireGuard.Protocol;

/// <summary>A 32-byte public key as a dictionary key (no allocation to look one up from a span).</summary>
internal readonly record struct PublicKeyId(ulong A, ulong B, ulong C, ulong D)
{
    public static PublicKeyId From(ReadOnlySpan<byte> key) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(key),
        BinaryPrimitives.ReadUInt64LittleEndian(key[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(key[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(key[24..]));
}
