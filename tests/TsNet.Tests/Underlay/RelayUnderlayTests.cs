using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.Tests.Netstack;
using TsNet.Tests.Relay;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Underlay;

/// <summary>
/// The relay layer over another underlay (the in-memory hub here): direct datagrams pass untouched, relayed ones are
/// dropped until the path binds and then leave Geneve-framed to the relay, framed data from the relay is unwrapped.
/// The relay is a <see cref="RelayServerCore"/> behind a second hub port, pumped by hand.
/// </summary>
public sealed class RelayUnderlayTests : IDisposable
{
    private readonly ManualTimeProvider _clock = new();
    private readonly InMemoryUnderlayHub _hub;
    private readonly PacketBufferPool _pool = new();
    private readonly Channel<UnderlayDatagram> _nodeInbox = Channel.CreateUnbounded<UnderlayDatagram>();
    private readonly Channel<UnderlayDatagram> _relayInbox = Channel.CreateUnbounded<UnderlayDatagram>();
    private readonly InMemoryUnderlay _relaySide;
    private readonly RelayUnderlay _layer;
    private readonly RelayCoreHarness _relay = new();
    private readonly RelayServerEndpoint _endpoint;
    private readonly UnderlayAddress _relayAddress;

    public RelayUnderlayTests()
    {
        _hub = new InMemoryUnderlayHub(_clock);
        var node = _hub.Attach(0, _pool, _nodeInbox.Writer, _ => { });
        _relaySide = _hub.Attach(0, _pool, _relayInbox.Writer, _ => { });
        _relayAddress = UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, _relaySide.Port));
        _layer = new RelayUnderlay(node, new RelayClientCore(_relay.A.Key.Bytes.ToArray(), TimeSpan.TicksPerSecond), NullLogger.Instance);
        _endpoint = _relay.Allocate();
        _layer.Relay.ConfigurePath([1, 2, 3], _relayAddress, _relay.ServerKey.PublicKey, _endpoint.Vni, _relay.B.Key.PublicKey, 0);
    }

    private UnderlayAddress Relayed => _relayAddress.WithVni(_endpoint.Vni);

    public void Dispose() => _hub.Dispose();

    private static PacketBuffer WireGuardMessage(PacketBufferPool pool, byte marker)
    {
        var buffer = pool.Rent();
        buffer.SetLength(48);
        buffer.Span.Fill(marker);
        buffer.Span[0] = (byte)MessageLayout.TypeTransport;
        buffer.Span[1] = buffer.Span[2] = buffer.Span[3] = 0;
        return buffer;
    }

    private UnderlayDatagram AtRelay() => _relayInbox.Reader.TryRead(out var datagram) ? datagram : throw new Xunit.Sdk.XunitException("nothing arrived at the relay");

    private UnderlayDatagram AtNode() => _nodeInbox.Reader.TryRead(out var datagram) ? datagram : throw new Xunit.Sdk.XunitException("nothing arrived at the node");

    /// <summary>The relay core handles what the node sent; a reply goes back over the hub.</summary>
    private RelayPacketOutcome RelayHandles(UnderlayDatagram datagram)
    {
        var result = _relay.Send(datagram.Buffer.Span, datagram.Source);
        if (result.Outcome == RelayPacketOutcome.Reply)
        {
            _relaySide.Send(result.Destination, result.Reply);
        }

        return result.Outcome;
    }

    [Fact]
    public void RelayedTraffic_IsDroppedUntilBound_ThenFramed_AndFramedDataIsUnwrapped()
    {
        var early = WireGuardMessage(_pool, 0xAA);
        _layer.Send(Relayed, early);
        _layer.Relay.NotBoundDrops.Should().Be(1);
        _relayInbox.Reader.TryRead(out _).Should().BeFalse("nothing is sent to an unbound relay path");

        // The bind handshake, through the layer's own Poll and Receive.
        _layer.NextDeadline.Should().Be(0);
        _layer.Poll(0);
        RelayHandles(AtRelay()).Should().Be(RelayPacketOutcome.Reply);
        var challenge = AtNode();
        _layer.Receive(ref challenge, 0).Should().Be(UnderlayReceiveResult.Consumed);
        RelayHandles(AtRelay()).Should().Be(RelayPacketOutcome.Consumed, "the relay takes our Answer");
        _layer.Relay.Paths.Single().Bound.Should().BeTrue();

        // Outbound: framed in the buffer's headroom, to the relay's address.
        var message = WireGuardMessage(_pool, 0xBB);
        var expected = message.Span.ToArray();
        _layer.Send(Relayed, message);
        var framed = AtRelay();
        framed.Buffer.Length.Should().Be(GeneveHeader.Length + expected.Length);
        GeneveHeader.TryDecode(framed.Buffer.Span, out var header).Should().BeTrue();
        (header.Vni, header.Control, header.Protocol).Should().Be((_endpoint.Vni, false, GeneveHeader.ProtocolWireGuard));
        framed.Buffer.Span[GeneveHeader.Length..].ToArray().Should().Equal(expected);

        // Inbound: the relay forwards framed data from the peer; WireGuard gets the inner message from the path's endpoint.
        _relaySide.Send(framed.Source, framed.Buffer.Span);
        var received = AtNode();
        _layer.Receive(ref received, 0).Should().Be(UnderlayReceiveResult.Unwrapped);
        received.Source.Should().Be(Relayed);
        received.Buffer.Span.ToArray().Should().Equal(expected);
        _layer.Relay.Paths.Single().Confirmed.Should().BeTrue();
    }

    [Fact]
    public void DirectTraffic_PassesThroughUntouched()
    {
        var message = WireGuardMessage(_pool, 0xCC);
        var expected = message.Span.ToArray();
        _layer.Send(_relayAddress, message);
        var arrived = AtRelay();
        arrived.Buffer.Span.ToArray().Should().Equal(expected);

        _relaySide.Send(arrived.Source, expected);
        var back = AtNode();
        _layer.Receive(ref back, 0).Should().Be(UnderlayReceiveResult.Direct);
        back.Source.Should().Be(_relayAddress);
        back.Buffer.Span.ToArray().Should().Equal(expected);
    }
}
