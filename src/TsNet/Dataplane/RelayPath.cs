using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Dataplane;

/// <summary>
/// One relayed peer's path, owned by the dataplane loop: the current bind handshake with the relay and whether the
/// relay has (as far as we know) bound our leg. Timers are core time (100 ns ticks).
/// </summary>
internal sealed class RelayPath
{
    public RelayPath(byte[] peerPublicKey, RelayPathSettings settings)
    {
        PeerPublicKey = peerPublicKey;
        Settings = settings;
    }

    /// <summary>The WireGuard peer that uses this path.</summary>
    public byte[] PeerPublicKey { get; }

    public RelayPathSettings Settings { get; }

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

    /// <summary>When the loop next has to act on this path (resend a Bind, start a refresh handshake).</summary>
    public long NextActionAt { get; set; }

    /// <summary>Completed handshakes (an Answer sent), for tests and status.</summary>
    public long HandshakesCompleted { get; set; }
}
