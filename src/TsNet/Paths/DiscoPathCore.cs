using System.Net;
using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>
/// Sans-IO direct-path discovery (disco-direct.md §3): per peer it keeps candidate addresses, pings them, trusts a
/// direct address for a while after a pong, and otherwise sends through the peer's DERP region while discovery runs.
/// Bytes and <c>now</c> (100 ns ticks) in; datagrams out through <see cref="IPathOutput"/>; <see cref="NextDeadline"/>
/// says when to <see cref="Poll"/>. Called on the dataplane loop only.
/// </summary>
internal sealed partial class DiscoPathCore
{
    /// <summary>Creates the core for this node's disco key pair and node (WireGuard) public key.</summary>
    /// <param name="discoPrivateKey">This node's disco private key (32 bytes).</param>
    /// <param name="nodePublicKey">This node's WireGuard public key (32 bytes), sent in every ping.</param>
    /// <param name="timings">Timers; <see cref="DiscoPathTimings.Default"/> when null.</param>
    /// <param name="random">Fills transaction ids and nonces; a cryptographic source when null (tests inject their own).</param>
    public DiscoPathCore(ReadOnlySpan<byte> discoPrivateKey, ReadOnlySpan<byte> nodePublicKey, DiscoPathTimings? timings = null, Action<Span<byte>>? random = null)
    {
        throw new NotImplementedException();
    }

    /// <summary>This node's disco public key (what the control client announces).</summary>
    public DiscoKey DiscoPublicKey => throw new NotImplementedException();

    /// <summary>Peers known.</summary>
    public int PeerCount => throw new NotImplementedException();

    /// <summary>What was sent, received and dropped.</summary>
    public DiscoPathCounters Counters => throw new NotImplementedException();

    /// <summary>When <see cref="Poll"/> has work next; <see cref="Timestamps.NotArmed"/> when nothing is due.</summary>
    public long NextDeadline => throw new NotImplementedException();

    /// <summary>Adds or updates a peer from the netmap; returns its id (≥ 1, stable while the peer stays).</summary>
    public uint SetPeer(ReadOnlySpan<byte> nodeKey, DiscoKey discoKey, int homeDerpRegion, IReadOnlyList<IPEndPoint> endpoints, long now) =>
        throw new NotImplementedException();

    /// <summary>Forgets a peer; false when it was not known.</summary>
    public bool RemovePeer(ReadOnlySpan<byte> nodeKey) => throw new NotImplementedException();

    /// <summary>The path for one WireGuard datagram to <paramref name="peerId"/>; notes activity and may start discovery.</summary>
    public PathChoice ChooseSend(uint peerId, long now, IPathOutput output) => throw new NotImplementedException();

    /// <summary>The peer whose best or candidate address <paramref name="source"/> is; 0 when unknown.</summary>
    public uint PeerForUdpSource(in UnderlayAddress source) => throw new NotImplementedException();

    /// <summary>The peer with node key <paramref name="nodeKey"/>; 0 when unknown.</summary>
    public uint PeerForNodeKey(ReadOnlySpan<byte> nodeKey) => throw new NotImplementedException();

    /// <summary>Handles a disco packet that arrived over UDP from <paramref name="source"/>.</summary>
    public void ReceiveUdpDisco(ReadOnlySpan<byte> packet, in UnderlayAddress source, long now, IPathOutput output) =>
        throw new NotImplementedException();

    /// <summary>Handles a disco packet that arrived through DERP region <paramref name="regionId"/> from <paramref name="sourceNodeKey"/>.</summary>
    public void ReceiveDerpDisco(ReadOnlySpan<byte> packet, int regionId, ReadOnlySpan<byte> sourceNodeKey, long now, IPathOutput output) =>
        throw new NotImplementedException();

    /// <summary>Records the DERP region a peer last reached us through (used when its home region is unknown).</summary>
    public void NoteDerpArrival(uint peerId, int regionId, long now) => throw new NotImplementedException();

    /// <summary>Sets this node's endpoints (local and STUN-observed) that CallMeMaybe announces.</summary>
    public void SetLocalEndpoints(IReadOnlyList<IPEndPoint> endpoints, long now) => throw new NotImplementedException();

    /// <summary>Runs what is due: heartbeats, ping timeouts, discovery rounds, candidate expiry.</summary>
    public void Poll(long now, IPathOutput output) => throw new NotImplementedException();

    /// <summary>The peer's current path for status output.</summary>
    public PeerPathStatus GetPathStatus(uint peerId, long now) => throw new NotImplementedException();
}
