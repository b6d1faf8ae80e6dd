using System.Security.Cryptography;
using TsNet.WireGuard.Crypto;

namespace TsNet.WireGuard.Protocol;

/// <summary>
/// Receiving side of WireGuard's DoS defence, one per node (wireguard.md §5): verifies mac1 on every handshake
/// message, and when under load verifies mac2 against a cookie bound to the sender's address, or makes the
/// cookie reply that hands out such a cookie.
/// </summary>
internal sealed class CookieChecker
{
    private readonly byte[] _mac1Key;
    private readonly byte[] _cookieKey;
    private readonly byte[] _secret = new byte[32];
    private long _secretSetAt = Timestamps.Never;

    public CookieChecker(ReadOnlySpan<byte> localPublicKey)
    {
        _mac1Key = NoiseConstants.DeriveLabelKey(NoiseConstants.LabelMac1, localPublicKey);
        _cookieKey = NoiseConstants.DeriveLabelKey(NoiseConstants.LabelCookie, localPublicKey);
    }

    /// <summary>Constant-time check of mac1 (the 16 bytes 32 before the end).</summary>
    public bool CheckMac1(ReadOnlySpan<byte> message)
    {
        var mac1Offset = message.Length - (2 * MessageLayout.MacSize);
        Span<byte> expected = stackalloc byte[MessageLayout.MacSize];
        Blake2s.Mac(_mac1Key, message[..mac1Offset], expected);
        return CryptographicOperations.FixedTimeEquals(expected, message.Slice(mac1Offset, MessageLayout.MacSize));
    }

    /// <summary>Constant-time check of mac2 against the cookie for <paramref name="source"/>; false once the secret is stale.</summary>
    public bool CheckMac2(ReadOnlySpan<byte> message, in UnderlayAddress source, long now, TimeSpan cookieRefreshTime)
    {
        if (now - _secretSetAt >= cookieRefreshTime.Ticks)
        {
            return false;
        }

        Span<byte> cookie = stackalloc byte[MessageLayout.MacSize];
        Span<byte> expected = stackalloc byte[MessageLayout.MacSize];
        MakeCookie(source, cookie);
        var mac2Offset = message.Length - MessageLayout.MacSize;
        Blake2s.Mac(cookie, message[..mac2Offset], expected);
        return CryptographicOperations.FixedTimeEquals(expected, message[mac2Offset..]);
    }

    /// <summary>Builds the 64-byte cookie reply for a handshake message from <paramref name="source"/>.</summary>
    public void CreateReply(ReadOnlySpan<byte> message, uint receiverIndex, in UnderlayAddress source, long now, TimeSpan cookieRefreshTime, Span<byte> reply)
    {
        if (now - _secretSetAt >= cookieRefreshTime.Ticks)
        {
            RandomNumberGenerator.Fill(_secret);
            _secretSetAt = now;
        }

        Span<byte> nonce = stackalloc byte[MessageLayout.CookieNonceLength];
        RandomNumberGenerator.Fill(nonce);
        CreateReply(message, receiverIndex, source, nonce, reply);
    }

    /// <summary>Deterministic variant for known-answer tests: explicit secret age handling is the caller's.</summary>
    internal void CreateReply(ReadOnlySpan<byte> message, uint receiverIndex, in UnderlayAddress source, ReadOnlySpan<byte> nonce, Span<byte> reply)
    {
        Span<byte> cookie = stackalloc byte[MessageLayout.MacSize];
        MakeCookie(source, cookie);
        reply[..MessageLayout.CookieReplySize].Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(reply, MessageLayout.TypeCookieReply);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(reply[MessageLayout.CookieReceiver..], receiverIndex);
        nonce.CopyTo(reply.Slice(MessageLayout.CookieNonce, MessageLayout.CookieNonceLength));
        var mac1 = message.Slice(message.Length - (2 * MessageLayout.MacSize), MessageLayout.MacSize);
        XChaCha20Poly1305Aead.Seal(_cookieKey, nonce, cookie, mac1, reply.Slice(MessageLayout.CookieEncrypted, MessageLayout.CookieEncryptedLength));
    }

    /// <summary>Test hook: sets the rotating secret R_m.</summary>
    internal void SetSecret(ReadOnlySpan<byte> secret, long now)
    {
        secret.CopyTo(_secret);
        _secretSetAt = now;
    }

    private void MakeCookie(in UnderlayAddress source, Span<byte> cookie)
    {
        // The encoding only has to be stable on this node (we both make and check it); it matches wireguard-go's
        // netip.AddrPort.MarshalBinary: address bytes, then the port little-endian.
        Span<byte> encoded = stackalloc byte[UnderlayAddress.MaxEncodedLength];
        var length = source.EncodeForCookie(encoded);
        Blake2s.Mac(_secret, encoded[..length], cookie);
    }
}
