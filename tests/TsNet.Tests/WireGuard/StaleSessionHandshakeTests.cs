using FluentAssertions;
using TsNet.WireGuard.Protocol;
using Xunit;

namespace TsNet.Tests.WireGuard;

public sealed class StaleSessionHandshakeTests
{
    [Fact]
    public void PeerConfiguredAgain_WhileTheOtherSideKeepsItsSession_HandshakesOnTheFirstStalePacket()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (_, atB) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress, marker: 1);
        net.Pump();
        b.Delivered.Should().HaveCount(1);

        // B drops A and configures it again (a netmap that briefly lacked A): B's sessions are gone, A's are not.
        b.Endpoint.RemovePeer(a.Endpoint.PublicKey).Should().BeTrue();
        var newAtB = b.Endpoint.AddPeer(a.Endpoint.PublicKey);
        b.Endpoint.SetAllowedIps(newAtB, [(a.InnerAddress, 32)]);
        b.Endpoint.ConfigureEndpoint(newAtB, a.Address);

        net.Now += TimeSpan.FromMilliseconds(10).Ticks;
        a.SendIp(b.InnerAddress, marker: 2);
        net.Pump();

        b.Endpoint.Counters[WireGuardDropReason.UnknownReceiverIndex].Should().Be(1, "the stale packet itself is lost");
        b.Endpoint.StaleSessionHandshakes.Should().Be(1);
        newAtB.HandshakesCompleted.Should().Be(1, "B started a handshake at once instead of waiting for A's 15 s rule");

        a.SendIp(b.InnerAddress, marker: 3);
        net.Pump();
        b.Delivered.Select(p => p[20]).Should().Equal((byte)1, (byte)3);
        atB.Removed.Should().BeTrue();
    }

    [Fact]
    public void UnknownIndexFromAStranger_OrFromAPeerWithASession_StartsNoHandshake()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var c = net.AddNode("c", 3);
        SimulatedNetwork.Connect(a, b);
        SimulatedNetwork.Connect(c, b);
        a.SendIp(b.InnerAddress, marker: 1);
        c.SendIp(b.InnerAddress, marker: 1);
        net.Pump();
        var initiationsBefore = b.Endpoint.Counters.HandshakeInitiationsSent;

        // C forgets B entirely (not a peer any more): its packets to B are fine; B still has its session with C.
        // A stranger's garbage with an unknown index from a new address: B knows no peer there.
        var garbage = new byte[32];
        garbage[0] = (byte)MessageLayout.TypeTransport;
        garbage[4] = 0x77;
        b.Receive(garbage, UnderlayAddress.FromIPv4(new byte[] { 198, 51, 100, 9 }, 4000));
        // A's address but B holds a session with A: a stale index there is old traffic, not a lost session.
        net.Now += TimeSpan.FromSeconds(1).Ticks;
        b.Receive(garbage, a.Address);

        b.Endpoint.StaleSessionHandshakes.Should().Be(0);
        b.Endpoint.Counters.HandshakeInitiationsSent.Should().Be(initiationsBefore);
    }
}
