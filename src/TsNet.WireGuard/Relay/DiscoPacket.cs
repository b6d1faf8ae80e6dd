using System.Security.Cryptography;
using TsNet.WireGuard.Crypto;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// Disco framing: <c>magic(6) ‖ sender disco public key(32) ‖ nonce(24) ‖ tag(16) ‖ ciphertext</c>, the inner payload
/// sealed with the NaCl box shared key of sender and recipient. Inner payload = <c>type ‖ version ‖ body</c>.
/// </summary>
internal static class DiscoPacket
{
    public const int MagicLength = 6;
    public const int KeyLength = 32;
    public const int NonceLength = NaClBox.NonceSize;
    public const int KeyOffset = MagicLength;
    public const int NonceOffset = KeyOffset + KeyLength;
    public const int BoxOffset = NonceOffset + NonceLength;

    /// <summary>Shortest disco-shaped packet (magic, key, nonce): 62 bytes.</summary>
    public const int MinimumLength = BoxOffset;

    /// <summary>Bytes before the inner payload's plaintext: 78.</summary>
    public const int Overhead = BoxOffset + NaClBox.Overhead;

    /// <summary>The type and version bytes that open every inner payload.</summary>
    public const int MessageHeaderLength = 2;

    /// <summary>"TS" followed by the UTF-8 encoding of U+1F4AC (speech balloon).</summary>
    public static ReadOnlySpan<byte> Magic => [0x54, 0x53, 0xf0, 0x9f, 0x92, 0xac];

    /// <summary>Long enough and starting with the magic.</summary>
    public static bool LooksLikeDisco(ReadOnlySpan<byte> packet) => packet.Length >= MinimumLength && packet.StartsWith(Magic);

    /// <summary>Splits a disco-shaped packet; false when it is not one.</summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out ReadOnlySpan<byte> senderKey, out ReadOnlySpan<byte> nonce, out ReadOnlySpan<byte> box)
    {
        if (!LooksLikeDisco(packet))
        {
            senderKey = nonce = box = default;
            return false;
        }

        senderKey = packet.Slice(KeyOffset, KeyLength);
        nonce = packet.Slice(NonceOffset, NonceLength);
        box = packet[BoxOffset..];
        return true;
    }

    /// <summary>Opens a box into <paramref name="inner"/> (at least box length − 16); returns the plaintext length or −1.</summary>
    public static int Open(ReadOnlySpan<byte> sharedKey, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> box, Span<byte> inner)
    {
        if (box.Length < NaClBox.Overhead || inner.Length < box.Length - NaClBox.Overhead)
        {
            return -1;
        }

        var plaintext = inner[..(box.Length - NaClBox.Overhead)];
        return NaClBox.Open(sharedKey, nonce, box, plaintext) ? plaintext.Length : -1;
    }

    /// <summary>
    /// Writes a whole disco packet sealing <paramref name="inner"/> with a fresh random nonce; returns its length
    /// (<see cref="Overhead"/> + inner length).
    /// </summary>
    public static int Seal(ReadOnlySpan<byte> senderPublicKey, ReadOnlySpan<byte> sharedKey, ReadOnlySpan<byte> inner, Span<byte> destination)
    {
        Span<byte> nonce = stackalloc byte[NonceLength];
        RandomNumberGenerator.Fill(nonce);
        return Seal(senderPublicKey, sharedKey, nonce, inner, destination);
    }

    /// <summary>As <see cref="Seal(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> with a given nonce (vectors).</summary>
    public static int Seal(ReadOnlySpan<byte> senderPublicKey, ReadOnlySpan<byte> sharedKey, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> inner, Span<byte> destination)
    {
        if (senderPublicKey.Length != KeyLength)
        {
            throw new ArgumentException("Disco keys are 32 bytes.", nameof(senderPublicKey));
        }

        int length = Overhead + inner.Length;
        if (destination.Length < length)
        {
            throw new ArgumentException("The destination is too small for the sealed message.", nameof(destination));
        }

        Magic.CopyTo(destination);
        senderPublicKey.CopyTo(destination[KeyOffset..]);
        nonce.CopyTo(destination[NonceOffset..]);
        NaClBox.Seal(sharedKey, nonce, inner, destination[BoxOffset..length]);
        return length;
    }

    /// <summary>Splits an inner payload into type, version and body; false when shorter than 2 bytes.</summary>
    public static bool TryReadMessageHeader(ReadOnlySpan<byte> inner, out DiscoMessageType type, out byte version, out ReadOnlySpan<byte> body)
    {
        if (inner.Length < MessageHeaderLength)
        {
            type = default;
            version = 0;
            body = default;
            return false;
        }

        type = (DiscoMessageType)inner[0];
        version = inner[1];
        body = inner[MessageHeaderLength..];
        return true;
    }
}
