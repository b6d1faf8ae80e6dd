using TsNet.WireGuard.Crypto;

namespace TsNet.WireGuard.Protocol;

// Rotating the node's static key while running (a control server may issue a new node key).
internal sealed partial class WireGuardEndpoint
{
    /// <summary>
    /// Replaces the node's static private key. Everything derived from it is recomputed: the public key, the mac1
    /// and cookie keys that check messages to us, and each peer's precomputed static-static DH. Every session and
    /// handshake in progress is dropped (they were keyed by the old identity); packets already staged stay staged,
    /// and peers with staged packets or a persistent keepalive start a handshake under the new key right away.
    /// </summary>
    /// <exception cref="ArgumentException">Not 32 bytes, or the new public key is a configured peer's.</exception>
    public void SetPrivateKey(ReadOnlySpan<byte> privateKey, long now, IWireGuardOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (privateKey.Length != 32)
        {
            throw new ArgumentException("A private key is 32 bytes.", nameof(privateKey));
        }

        Span<byte> publicKey = stackalloc byte[32];
        X25519.DerivePublicKey(privateKey, publicKey);
        if (_peers.ContainsKey(PublicKeyId.From(publicKey)))
        {
            throw new ArgumentException("The new key's public key is a configured peer's.", nameof(privateKey));
        }

        var staticKey = new X25519StaticKey(privateKey);
        _staticKey.Dispose();
        _staticKey = staticKey;
        privateKey.CopyTo(_privateKey);
        publicKey.CopyTo(_publicKey);
        Wipe(publicKey);
        _cookieChecker = new CookieChecker(_publicKey);

        foreach (var peer in _peers.Values)
        {
            WipeSessions(peer);
            peer.Handshake.LastSentHandshake = Timestamps.Never; // the throttle guarded the old identity's handshakes
            peer.RecomputeStaticStatic(_privateKey);

            // The old sessions' timers (keepalive, new-handshake, zeroing) have nothing left to act on.
            var keepalive = peer.Timers.PersistentKeepalive;
            peer.Timers.DisarmAll();
            peer.Timers.PersistentKeepalive = keepalive;
            if (peer.Staged.Count > 0 || peer.PersistentKeepaliveInterval > TimeSpan.Zero)
            {
                SendHandshakeInitiation(peer, isRetry: false, now, output);
            }

            Reschedule(peer);
        }
    }
}
