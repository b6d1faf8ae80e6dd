using System.Buffers.Binary;

namespace TsNet.Paths;

/// <summary>A 32-byte public key (node or disco) as a small value, usable as a dictionary key without allocating.</summary>
internal readonly struct Key32 : IEquatable<Key32>
{
    /// <summary>Key length in bytes.</summary>
    public const int Size = 32;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private Key32(ReadOnlySpan<byte> bytes)
    {
        _a = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
    }

    /// <summary>True for the all-zero key (no key).</summary>
    public bool IsZero => (_a | _b | _c | _d) == 0;

    /// <summary>Reads exactly 32 bytes; false for any other length.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out Key32 key)
    {
        if (bytes.Length != Size)
        {
            key = default;
            return false;
        }

        key = new Key32(bytes);
        return true;
    }

    /// <summary>Writes the 32 bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], _d);
    }

    public bool Equals(Key32 other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is Key32 other && Equals(other);

    // Keys are uniformly random: one word is as good a hash as all four.
    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);

    public static bool operator ==(Key32 left, Key32 right) => left.Equals(right);

    public static bool operator !=(Key32 left, Key32 right) => !left.Equals(right);
}
