using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Dataplane;
using TsNet.Derp;
using TsNet.Packets.Buffers;
using TsNet.Paths;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.Paths;

/// <summary>
/// A Tailscale peer accepts WireGuard from an address only once its disco knows it, so an initiation sprayed before
/// its first ping reached us was dropped there. <see cref="MagicUnderlay"/> answers the ping with a pong first and then
/// raises <see cref="MagicUnderlay.DirectPathConfirmed"/> (the dataplane's handshake nudge) — at most once a second
/// per peer, whatever the ping rate.
/// </summary>
public sealed class MagicUnderlayPingNudgeTests : IAsyncDisposable
{
    private static readonly UnderlayAddress PeerAddress = UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.7:41641"));
    private static readonly UnderlayAddress OurAddress = UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:41641"));
    private static readonly long Second = TimeSpan.FromSeconds(1).Ticks;

    private readonly PacketBufferPool _pool = new();
    private readonly RecordingUnderlay _inner = new();
    private readonly MagicUnderlay _layer;
    private readonly DiscoTestNetwork _network;
    private readonly DiscoTestNode _peer;
    private readonly WireGuardPeer _wireGuardPeer;
    private readonly uint _peerIdAtPeer;
    private readonly List<WireGuardPeer> _nudged = [];
    private long _peerNow = TimeSpan.FromSeconds(1000).Ticks;

    public MagicUnderlayPingNudgeTests()
    {
        var random = new Random(5);
        _network = new DiscoTestNetwork();
        _peer = _network.AddNode("peer", "192.0.2.7:41641");
        var ourDisco = new byte[32];
        random.NextBytes(ourDisco);
        var ourNodeKey = new byte[32];
        random.NextBytes(ourNodeKey);
        var disco = new DiscoPathCore(ourDisco, ourNodeKey);
        var derp = new DerpClientSet(new DerpClientSetOptions
        {
            NodePrivateKey = ourNodeKey,
            Pool = _pool,
            Inbound = Channel.CreateUnbounded<UnderlayDatagram>().Writer,
        });
        _layer = new MagicUnderlay(_inner, derp, disco, new NetcheckCore(), () => _peerNow, NullLogger.Instance);
        _layer.DirectPathConfirmed += peer => _nudged.Add(peer);

        var endpoint = new WireGuardEndpoint(new WireGuardEndpointOptions { PrivateKey = ourNodeKey, Pool = _pool });
        _wireGuardPeer = endpoint.AddPeer(_peer.NodeKey);
        _layer.SetPeer(_wireGuardPeer, _peer.Core.DiscoPublicKey, 0, [IPEndPoint.Parse("192.0.2.7:41641")], _peerNow);
        _peerIdAtPeer = _peer.Core.SetPeer(ourNodeKey, disco.DiscoPublicKey, 0, [IPEndPoint.Parse("192.0.2.1:41641")], _peerNow);
    }

    [Fact]
    public void PingFromPeer_PongGoesFirst_ThenOneNudge_AtMostOncePerSecond()
    {
        var start = _peerNow;

        DeliverPeerPing(at: start);
        _inner.Sent.Should().ContainSingle("the pong").Which.To.Should().Be(PeerAddress);
        _nudged.Should().Equal(_wireGuardPeer);

        // Another (new) ping half a second later: answered, but no second nudge yet.
        DeliverPeerPing(at: start + (Second / 2));
        _inner.Sent.Should().HaveCount(2);
        _nudged.Should().HaveCount(1);

        DeliverPeerPing(at: start + (3 * Second / 2));
        _inner.Sent.Should().HaveCount(3);
        _nudged.Should().HaveCount(2);
    }

    [Fact]
    public void PingFromUnknownAddressOrStranger_NoNudge()
    {
        // Same network: its own keys (a node of a second network would repeat the first one's seeded keys).
        var stranger = _network.AddNode("stranger", "192.0.2.9:41641");
        stranger.Core.SetPeer(new byte[32], _layer.Disco.DiscoPublicKey, 0, [IPEndPoint.Parse("192.0.2.1:41641")], _peerNow);
        _peerNow += 6 * Second;
        var id = stranger.Core.PeerForNodeKey(new byte[32]);
        stranger.Core.ChooseSend(id, _peerNow, stranger);
        var ping = stranger.UdpSent.Should().ContainSingle().Subject;

        Deliver(ping.Datagram, UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.9:41641")), _peerNow);

        _inner.Sent.Should().BeEmpty("a disco key of no peer gets no pong");
        _nudged.Should().BeEmpty();
    }

    /// <summary>The peer pings us (a fresh discovery round at its time <paramref name="at"/> + 6 s steps) and we receive it at <paramref name="at"/>.</summary>
    private void DeliverPeerPing(long at)
    {
        _peerNow += 6 * Second; // past the peer's 5 s per-address ping spacing: a new TxID
        _peer.UdpSent.Clear();
        _peer.Core.ChooseSend(_peerIdAtPeer, _peerNow, _peer);
        var ping = _peer.UdpSent.Should().ContainSingle(p => p.To == OurAddress).Subject;
        Deliver(ping.Datagram, PeerAddress, at);
    }

    private void Deliver(byte[] bytes, UnderlayAddress source, long at)
    {
        var buffer = _pool.Rent();
        buffer.SetLength(bytes.Length);
        bytes.CopyTo(buffer.Span);
        var datagram = new UnderlayDatagram(buffer, source);
        _layer.Receive(ref datagram, at).Should().Be(UnderlayReceiveResult.Consumed);
    }

    public async ValueTask DisposeAsync() => await _layer.DisposeAsync();
}
