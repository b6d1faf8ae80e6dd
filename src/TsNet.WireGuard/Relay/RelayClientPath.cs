using TsNet.WireGuard.Protocol;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// One relayed peer's path, owned by a <see cref="RelayClientCore"/>: where the relay is, the current bind handshake
/// and whether the relay has (as far as we know) bound our leg. Times are core time (100 ns ticks).
/// </summary>
internal sealed class RelayClientPath
{
    public RelayClientPath(byte[] peerPublicKey, UnderlayAddress server, DiscoKey serverKey, uint vni, DiscoKey peerKey)
    {
        PeerPublicKey = peerPublicKey;
        Server = server;
        ServerKey = serverKey;
        Vni = vni;
        PeerKey = peerKey;
        Endpoint = server.WithVni(vni);
    }

    /// <summary>The WireGuard peer that uses this path.</summary>
    public byte[] PeerPublicKey { get; }

    /// <summary>The relay's address (VNI 0): where Binds and framed traffic go.</summary>
    public UnderlayAddress Server { get; }

    /// <summary>The relay server's disco key.</summary>
    public DiscoKey ServerKey { get; }

    /// <summary>The relay endpoint's VNI.</summary>
    public uint Vni { get; }

    /// <summary>The remote peer's disco key.</summary>
    public DiscoKey PeerKey { get; }

    /// <summary>The peer's WireGuard endpoint: the relay's address on this VNI.</summary>
    public UnderlayAddress Endpoint { get; }

    /// <summary>The handshake in progress or the last one answered; null before the first Bind.</summary>
    public RelayHandshakeClient? Client { get; set; }

    /// <summary>Binds sent in the current handshake.</summary>
    public int BindsSent { get; set; }

    /// <summary>True once an Answer was sent and until a later handshake fails: WireGuard traffic may go through.</summary>
    public bool Bound { get; set; }

    /// <summary>
    /// True once relayed data came back since the last failed handshake: the relay forwards for us. A refresh's lost
    /// Answer then does no harm (the relay keeps the old binding), so the next refresh can wait the full interval.
    /// </summary>
    public bool Confirmed { get; set; }

    /// <summary>When the last Answer was sent (<see cref="Timestamps.Never"/> if none).</summary>
    public long AnsweredAt { get; set; } = Timestamps.Never;

    /// <summary>When relayed data last arrived from the peer (<see cref="Timestamps.Never"/> if none).</summary>
    public long LastReceivedAt { get; set; } = Timestamps.Never;

    /// <summary>When the core next has to act on this path (resend a Bind, start a refresh handshake).</summary>
    public long NextActionAt { get; set; }

    /// <summary>Completed handshakes (an Answer sent), for tests and status.</summary>
    public long HandshakesCompleted { get; set; }

    /// <summary>Whether this path is the one described by the arguments (an unchanged path keeps its binding).</summary>
    public bool Matches(UnderlayAddress server, DiscoKey serverKey, uint vni, DiscoKey peerKey) =>
        Server == server && ServerKey == serverKey && Vni == vni && PeerKey == peerKey;
}
