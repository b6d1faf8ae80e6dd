using System.Buffers.Binary;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// The 40-byte STUN binding request Tailscale sends (disco-direct.md §5.1): header, SOFTWARE <c>tailnode</c> first,
/// then FINGERPRINT. Tailscale's and Headscale's STUN servers answer only exactly this shape.
/// </summary>
internal static class StunBindingRequest
{
    /// <summary>Whole request length.</summary>
    public const int Length = 40;

    /// <summary>Transaction id length.</summary>
    public const int TransactionIdLength = 12;

    private const ushort BindingRequestType = 0x0001;
    private const ushort AttributesLength = 20;
    private const ushort SoftwareAttribute = 0x8022;
    private const ushort FingerprintAttribute = 0x8028;
    private const uint FingerprintXor = 0x5354554E;
    private const int TransactionIdOffset = 8;
    private const int SoftwareOffset = 20;
    private const int FingerprintOffset = 32;

    /// <summary>SOFTWARE value: 8 bytes, so no padding.</summary>
    private static ReadOnlySpan<byte> Software => "tailnode"u8;

    /// <summary>Writes a request with <paramref name="transactionId"/> (12 bytes) into <paramref name="destination"/> (≥ 40 bytes); returns 40.</summary>
    public static int Write(ReadOnlySpan<byte> transactionId, Span<byte> destination)
    {
        if (transactionId.Length != TransactionIdLength)
        {
            throw new ArgumentException("A STUN transaction id is 12 bytes.", nameof(transactionId));
        }

        var request = destination[..Length];
        BinaryPrimitives.WriteUInt16BigEndian(request, BindingRequestType);
        BinaryPrimitives.WriteUInt16BigEndian(request[2..], AttributesLength);
        BinaryPrimitives.WriteUInt32BigEndian(request[4..], StunMessage.MagicCookie);
        transactionId.CopyTo(request[TransactionIdOffset..]);
        BinaryPrimitives.WriteUInt16BigEndian(request[SoftwareOffset..], SoftwareAttribute);
        BinaryPrimitives.WriteUInt16BigEndian(request[(SoftwareOffset + 2)..], (ushort)Software.Length);
        Software.CopyTo(request[(SoftwareOffset + 4)..]);
        BinaryPrimitives.WriteUInt16BigEndian(request[FingerprintOffset..], FingerprintAttribute);
        BinaryPrimitives.WriteUInt16BigEndian(request[(FingerprintOffset + 2)..], 4);
        // RFC 5389 §15.5: the CRC covers the message up to the FINGERPRINT attribute (bytes 0–31), with the length
        // field already counting it. (disco-direct.md §5.1 says 0..35; the vector b32c370f matches 0–31.)
        uint fingerprint = Crc32Ieee.Compute(request[..FingerprintOffset]) ^ FingerprintXor;
        BinaryPrimitives.WriteUInt32BigEndian(request[(FingerprintOffset + 4)..], fingerprint);
        return Length;
    }
}
