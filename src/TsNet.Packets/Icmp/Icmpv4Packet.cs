using System.Buffers.Binary;

namespace TsNet.Packets;

/// <summary>
/// A checked read-only view of an ICMPv4 message (RFC 792): the IPv4 payload. <see cref="TryCreate"/> guarantees
/// the 8-byte header is present; the type-specific fields (echo identifier and sequence, next-hop MTU) are read
/// from the second 32-bit word whatever the type, so callers check <see cref="Type"/> first.
/// </summary>
internal readonly ref struct Icmpv4Packet
{
    /// <summary>Type, code, checksum and the 4-byte rest-of-header.</summary>
    public const int HeaderLength = 8;

    internal const int TypeOffset = 0;
    internal const int CodeOffset = 1;
    internal const int ChecksumOffset = 2;
    internal const int IdentifierOffset = 4;
    internal const int SequenceNumberOffset = 6;
    internal const int NextHopMtuOffset = 6;

    private readonly ReadOnlySpan<byte> _message;

    private Icmpv4Packet(ReadOnlySpan<byte> message) => _message = message;

    /// <summary>Checks <paramref name="message"/> is long enough to be an ICMPv4 message.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> message, out Icmpv4Packet packet)
    {
        packet = message.Length >= HeaderLength ? new Icmpv4Packet(message) : default;
        return message.Length >= HeaderLength;
    }

    /// <summary>The whole message.</summary>
    public ReadOnlySpan<byte> Bytes => _message;

    /// <summary>Message type (<see cref="Icmpv4Type"/>).</summary>
    public byte Type => _message[TypeOffset];

    /// <summary>Message code.</summary>
    public byte Code => _message[CodeOffset];

    /// <summary>Checksum field.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_message[ChecksumOffset..]);

    /// <summary>Echo identifier (echo request/reply).</summary>
    public ushort Identifier => BinaryPrimitives.ReadUInt16BigEndian(_message[IdentifierOffset..]);

    /// <summary>Echo sequence number (echo request/reply).</summary>
    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_message[SequenceNumberOffset..]);

    /// <summary>Next-hop MTU of a "fragmentation needed" destination unreachable (RFC 1191).</summary>
    public ushort NextHopMtu => BinaryPrimitives.ReadUInt16BigEndian(_message[NextHopMtuOffset..]);

    /// <summary>The type-specific second word.</summary>
    public ReadOnlySpan<byte> RestOfHeader => _message[IdentifierOffset..HeaderLength];

    /// <summary>Data after the 8-byte header (echo data, or the invoking packet of an error).</summary>
    public ReadOnlySpan<byte> Payload => _message[HeaderLength..];

    /// <summary>True when the checksum over the whole message verifies.</summary>
    public bool IsChecksumValid() => InternetChecksum.IsValid(_message);

    /// <summary>Sets the type of a message already validated or built by us (the checksum must be refilled).</summary>
    public static void SetType(Span<byte> message, byte type) => message[TypeOffset] = type;

    /// <summary>Recomputes and stores the checksum of a message already validated or built by us.</summary>
    public static void FillChecksum(Span<byte> message)
    {
        BinaryPrimitives.WriteUInt16BigEndian(message[ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(message[ChecksumOffset..], InternetChecksum.Compute(message));
    }
}
