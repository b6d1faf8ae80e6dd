using System.Buffers.Binary;

namespace TsNet.Packets;

/// <summary>
/// A checked read-only view of an ICMPv6 message (RFC 4443): the upper-layer payload of an IPv6 packet. Unlike
/// ICMPv4 its checksum covers the IPv6 pseudo-header, so checking and filling it needs the addresses.
/// </summary>
internal readonly ref struct Icmpv6Packet
{
    /// <summary>Type, code, checksum and the 4-byte message body start.</summary>
    public const int HeaderLength = 8;

    internal const int TypeOffset = 0;
    internal const int CodeOffset = 1;
    internal const int ChecksumOffset = 2;
    internal const int IdentifierOffset = 4;
    internal const int SequenceNumberOffset = 6;
    internal const int MtuOffset = 4;

    private readonly ReadOnlySpan<byte> _message;

    private Icmpv6Packet(ReadOnlySpan<byte> message) => _message = message;

    /// <summary>Checks <paramref name="message"/> is long enough to be an ICMPv6 message.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> message, out Icmpv6Packet packet)
    {
        packet = message.Length >= HeaderLength ? new Icmpv6Packet(message) : default;
        return message.Length >= HeaderLength;
    }

    /// <summary>The whole message.</summary>
    public ReadOnlySpan<byte> Bytes => _message;

    /// <summary>Message type (<see cref="Icmpv6Type"/>).</summary>
    public byte Type => _message[TypeOffset];

    /// <summary>Message code.</summary>
    public byte Code => _message[CodeOffset];

    /// <summary>Checksum field.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_message[ChecksumOffset..]);

    /// <summary>Echo identifier (echo request/reply).</summary>
    public ushort Identifier => BinaryPrimitives.ReadUInt16BigEndian(_message[IdentifierOffset..]);

    /// <summary>Echo sequence number (echo request/reply).</summary>
    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_message[SequenceNumberOffset..]);

    /// <summary>MTU of a packet too big message.</summary>
    public uint Mtu => BinaryPrimitives.ReadUInt32BigEndian(_message[MtuOffset..]);

    /// <summary>Data after the 8-byte header (echo data, or the invoking packet of an error).</summary>
    public ReadOnlySpan<byte> Payload => _message[HeaderLength..];

    /// <summary>True when the checksum over the pseudo-header and the message verifies.</summary>
    public bool IsChecksumValid(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination) =>
        InternetChecksum.IsValid(_message, InternetChecksum.PseudoHeaderIpv6(source, destination, IpProtocol.Icmpv6, _message.Length));

    /// <summary>Sets the type of a message already validated or built by us (the checksum must be refilled).</summary>
    public static void SetType(Span<byte> message, byte type) => message[TypeOffset] = type;

    /// <summary>Recomputes and stores the checksum of a message already validated or built by us.</summary>
    public static void FillChecksum(Span<byte> message, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(message[ChecksumOffset..], 0);
        ulong pseudoHeader = InternetChecksum.PseudoHeaderIpv6(source, destination, IpProtocol.Icmpv6, message.Length);
        BinaryPrimitives.WriteUInt16BigEndian(message[ChecksumOffset..], InternetChecksum.Compute(message, pseudoHeader));
    }
}
