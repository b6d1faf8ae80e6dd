using System.Buffers.Binary;
using TsNet.WireGuard.Protocol;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// A STUN binding success response (disco-direct.md §5.2) read as Tailscale's client reads it: the transaction id and
/// the mapped address, preferring XOR-MAPPED-ADDRESS (<c>0x0020</c> or <c>0x8020</c>) over MAPPED-ADDRESS
/// (<c>0x0001</c>); IPv4-mapped IPv6 comes back as IPv4. Malformed input returns false, never throws.
/// </summary>
internal static class StunBindingResponse
{
    private const int HeaderLength = 20;
    private const int TransactionIdOffset = 8;
    private const int AttributeHeaderLength = 4;
    private const ushort BindingSuccessType = 0x0101;
    private const ushort MappedAddressAttribute = 0x0001;
    private const ushort XorMappedAddressAttribute = 0x0020;
    private const ushort XorMappedAddressAlternateAttribute = 0x8020;
    private const byte FamilyIPv4 = 1;
    private const byte FamilyIPv6 = 2;

    /// <summary>
    /// Parses <paramref name="packet"/>; on success <paramref name="transactionId"/> is a slice of it (12 bytes) and
    /// <paramref name="mapped"/> the address the server saw.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out ReadOnlySpan<byte> transactionId, out UnderlayAddress mapped)
    {
        transactionId = default;
        mapped = default;
        if (!StunMessage.IsStun(packet) || BinaryPrimitives.ReadUInt16BigEndian(packet) != BindingSuccessType)
        {
            return false;
        }

        int attributesLength = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        var attributes = packet[HeaderLength..];
        if (attributesLength > attributes.Length)
        {
            return false;
        }

        // Bytes beyond the header's length are not part of the message.
        attributes = attributes[..attributesLength];
        var id = packet.Slice(TransactionIdOffset, StunBindingRequest.TransactionIdLength);
        UnderlayAddress xorMapped = default;
        UnderlayAddress plainMapped = default;
        while (attributes.Length > 0)
        {
            if (attributes.Length < AttributeHeaderLength)
            {
                return false;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(attributes);
            int length = BinaryPrimitives.ReadUInt16BigEndian(attributes[2..]);
            int padded = (length + 3) & ~3;
            attributes = attributes[AttributeHeaderLength..];
            if (padded > attributes.Length)
            {
                return false;
            }

            var value = attributes[..length];
            switch (type)
            {
                case XorMappedAddressAttribute or XorMappedAddressAlternateAttribute:
                    if (!TryReadAddress(value, packet[4..HeaderLength], out xorMapped))
                    {
                        return false;
                    }

                    break;
                case MappedAddressAttribute:
                    // An odd MAPPED-ADDRESS is only a fallback: ignore it rather than reject the response.
                    TryReadAddress(value, default, out plainMapped);
                    break;
            }

            attributes = attributes[padded..];
        }

        mapped = xorMapped.IsSet ? xorMapped : plainMapped;
        transactionId = id;
        return mapped.IsSet;
    }

    /// <summary>
    /// Reads <c>0 | family | port | address</c>; with <paramref name="xorKey"/> (cookie ‖ transaction id, 16 bytes)
    /// the port and address are XORed with it (IPv4 uses the cookie only).
    /// </summary>
    private static bool TryReadAddress(ReadOnlySpan<byte> value, ReadOnlySpan<byte> xorKey, out UnderlayAddress address)
    {
        address = default;
        if (value.Length < 4)
        {
            return false;
        }

        int addressLength = value[1] switch
        {
            FamilyIPv4 => 4,
            FamilyIPv6 => 16,
            _ => 0,
        };
        if (addressLength == 0 || value.Length < 4 + addressLength)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        value.Slice(4, addressLength).CopyTo(bytes);
        ushort port = BinaryPrimitives.ReadUInt16BigEndian(value[2..]);
        if (!xorKey.IsEmpty)
        {
            port ^= (ushort)(StunMessage.MagicCookie >> 16);
            for (int i = 0; i < addressLength; i++)
            {
                bytes[i] ^= xorKey[i];
            }
        }

        address = addressLength == 4 ? UnderlayAddress.FromIPv4(bytes[..4], port) : UnderlayAddress.FromIPv6(bytes, port);
        return true;
    }
}
