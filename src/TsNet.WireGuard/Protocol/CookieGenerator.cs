using System.Security.Cryptography;
using TsNet.WireGuard.Crypto;

namespace TsNet.WireGuard.Protocol;

/// <summary>
/// Sending side of WireGuard's DoS defence, one per peer (wireguard.md §5): adds mac1 to every handshake message,
/// mac2 while a fresh cookie from that peer is held, and decrypts cookie replies.
/// </summary>
internal sealed class CookieGenerator
{
    private readonly byte[] _mac1Key;
    private readonly byte[] _cookieKey;
    private readonly byte[] _lastMac1 = new byte[MessageLayout.MacSize];
    private readonly byte[] _cookie = new byte[MessageLayout.MacSize];
    private bool _hasLastMac1;
    private long _cookieSetAt = Timestamps.Never;

    public CookieGenerator(ReadOnlySpan<byte> peerPublicKey)
    {
        _mac1Key = NoiseConstants.DeriveLabelKey(NoiseConstants.LabelMac1, peerPublicKey);
        _cookieKey = NoiseConstants.DeriveLabelKey(NoiseConstants.LabelCookie, peerPublicKey);
    }

    /// <summary>True while a cookie received less than the refresh time ago is held.</summary>
    public bool HasFreshCookie(long now, TimeSpan cookieRefreshTime) => now - _cookieSetAt < cookieRefreshTime.Ticks;

    /// <summary>Writes mac1 and mac2 into the last 32 bytes of a handshake message.</summary>
    public void AddMacs(Span<byte> message, long now, TimeSpan cookieRefreshTime)
    {
        var mac1Offset = message.Length - (2 * MessageLayout.MacSize);
        var mac2Offset = message.Length - MessageLayout.MacSize;
        var mac1 = message.Slice(mac1Offset, MessageLayout.MacSize);
        Blake2s.Mac(_mac1Key, message[..mac1Offset], mac1);
        mac1.CopyTo(_lastMac1);
        _hasLastMac1 = true;

        var mac2 = message.Slice(mac2Offset, MessageLayout.MacSize);
        if (HasFreshCookie(now, cookieRefreshTime))
        {
            Blake2s.Mac(_cookie, message[..mac2Offset], mac2);
        }
        else
        {
            mac2.Clear();
        }
    }

    /// <summary>Decrypts a cookie reply answering our last handshake message; false (and nothing kept) otherwise.</summary>
    public bool ConsumeReply(ReadOnlySpan<byte> reply, long now)
    {
        if (!_hasLastMac1 || reply.Length != MessageLayout.CookieReplySize)
        {
            return false;
        }

        Span<byte> cookie = stackalloc byte[MessageLayout.MacSize];
        var nonce = reply.Slice(MessageLayout.CookieNonce, MessageLayout.CookieNonceLength);
        var encrypted = reply.Slice(MessageLayout.CookieEncrypted, MessageLayout.CookieEncryptedLength);
        if (!XChaCha20Poly1305Aead.Open(_cookieKey, nonce, encrypted, _lastMac1, cookie))
        {
            return false;
        }

        cookie.CopyTo(_cookie);
        CryptographicOperations.ZeroMemory(cookie);
        _cookieSetAt = now;
        return true;
    }
}
