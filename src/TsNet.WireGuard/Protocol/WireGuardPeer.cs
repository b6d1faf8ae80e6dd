using System.Security.Cryptography;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Crypto;

namespace TsNet.WireGuard.Protocol;

/// <summary>
/// Everything the WireGuard core knows about one peer: its keys, handshake, keypairs, endpoint, timers, staged
/// packets and counters. Owned and mutated only by <see cref="WireGuardEndpoint"/> (one thread).
/// </summary>
internal sealed class WireGuardPeer
{
    private readonly byte[] _publicKey;
    private readonly byte[] _presharedKey = new byte[32];
    private readonly byte[] _staticStatic = new byte[32];

    internal WireGuardPeer(ReadOnlySpan<byte> localPrivateKey, ReadOnlySpan<byte> publicKey)
    {
        _publicKey = publicKey.ToArray();
        Id = PublicKeyId.From(publicKey);
        // A low-order public key makes the static-static secret zero: keep the peer but never handshake with it.
        IsUsable = X25519.TrySharedSecret(localPrivateKey, publicKey, _staticStatic);
        CookieGenerator = new CookieGenerator(publicKey);
    }

    public PublicKeyId Id { get; }

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    public ReadOnlySpan<byte> PresharedKey => _presharedKey;

    public ReadOnlySpan<byte> StaticStatic => _staticStatic;

    /// <summary>False when DH(our private, its public) is all zero: handshakes can never succeed.</summary>
    public bool IsUsable { get; private set; }

    public CookieGenerator CookieGenerator { get; }

    public Handshake Handshake { get; } = new();

    public PeerTimers Timers { get; } = new();

    public Keypair? Previous { get; set; }

    public Keypair? Current { get; set; }

    /// <summary>Responder-side keypair not yet confirmed by a received packet; never used for sending.</summary>
    public Keypair? Next { get; set; }

    /// <summary>Where we send to; updated by every authenticated packet from a new source (roaming) unless <see cref="FixedEndpoint"/>.</summary>
    public UnderlayAddress Endpoint { get; set; }

    /// <summary>
    /// True when the owner chooses the path (control mode: the endpoint is the peer's virtual path address and the
    /// path layer picks direct UDP or DERP per datagram): authenticated packets from other sources do not roam it.
    /// </summary>
    public bool FixedEndpoint { get; set; }

    public TimeSpan PersistentKeepaliveInterval { get; set; }

    /// <summary>Packets waiting for a usable keypair (bounded; oldest dropped first, as wireguard-go).</summary>
    internal Queue<PacketBuffer> Staged { get; } = new();

    /// <summary>The last handshake message sent, for re-sending it over a path that just started to work; null before the first.</summary>
    internal SentHandshakeMessage? LastHandshakeMessage { get; set; }

    public long RxBytes { get; set; }

    public long TxBytes { get; set; }

    /// <summary>Core time of the last completed handshake, or <see cref="Timestamps.Never"/>.</summary>
    public long LastHandshakeAt { get; set; } = Timestamps.Never;

    /// <summary>Number of completed handshakes (sessions confirmed), for status and tests.</summary>
    public long HandshakesCompleted { get; set; }

    /// <summary>Deadline under which this peer sits in the endpoint's timer queue.</summary>
    internal long ScheduledAt { get; set; } = Timestamps.NotArmed;

    internal bool Removed { get; set; }

    /// <summary>Free slot for the owner (the dataplane keeps its per-peer state here).</summary>
    public object? Tag { get; set; }

    /// <summary>Recomputes DH(our private, its public) after the node's key changed.</summary>
    internal void RecomputeStaticStatic(ReadOnlySpan<byte> localPrivateKey) =>
        IsUsable = X25519.TrySharedSecret(localPrivateKey, _publicKey, _staticStatic);

    public void SetPresharedKey(ReadOnlySpan<byte> presharedKey)
    {
        if (presharedKey.IsEmpty)
        {
            CryptographicOperations.ZeroMemory(_presharedKey);
        }
        else
        {
            presharedKey.CopyTo(_presharedKey);
        }
    }

    /// <summary>Session state for status output.</summary>
    public string SessionState => Current is not null ? "established"
        : Handshake.State == HandshakeState.InitiationCreated ? "handshaking"
        : Next is not null ? "awaiting-confirmation"
        : "none";

    public override string ToString() => Convert.ToBase64String(_publicKey);
}
