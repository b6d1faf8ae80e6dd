using System.Net;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>Handshake, transport and routing behaviour of two cores over a simulated underlay.</summary>
public sealed class WireGuardEndpointTests
{
    private static int CountType(SimulatedNetwork net, SimulatedNetwork.Node from, uint type, int? length = null) =>
        net.Sent.Count(s => s.From == from.Address && s.Bytes[0] == type && (length is null || s.Bytes.Length == length));

    [Fact]
    public void FirstPacket_TriggersHandshake_AndIsDeliveredAfterIt()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, atB) = SimulatedNetwork.Connect(a, b);

        a.SendIp(b.InnerAddress, payloadLength: 3, marker: 7);
        CountType(net, a, MessageLayout.TypeInitiation).Should().Be(1);
        net.Pump();

        b.Delivered.Should().ContainSingle();
        b.Delivered[0].Length.Should().Be(23, "padding is stripped using the inner total length");
        b.Delivered[0][20].Should().Be(7);
        atA.Current.Should().NotBeNull();
        atA.Current!.IsInitiator.Should().BeTrue();
        atB.Current.Should().NotBeNull("the data packet confirmed the responder's next keypair");
        atB.Next.Should().BeNull();
        atA.HandshakesCompleted.Should().Be(1);
        atB.HandshakesCompleted.Should().Be(1);

        b.SendIp(a.InnerAddress);
        net.Pump();
        a.Delivered.Should().ContainSingle();
        a.Endpoint.Indices.Count.Should().Be(1, "the handshake index now names the only keypair");
        b.Endpoint.Indices.Count.Should().Be(1);
    }

    [Fact]
    public void Responder_DoesNotSendUnderNewKeys_UntilItReceivedUnderThem()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, atB) = SimulatedNetwork.Connect(a, b);

        // Lose A's first transport message (the keepalive that would confirm the session).
        net.Filter = (from, _, bytes) => !(from == a.Address && bytes[0] == MessageLayout.TypeTransport);
        a.Endpoint.SetPersistentKeepalive(atA, TimeSpan.Zero, net.Now, a);
        a.Endpoint.SendPacket(atA, net.Pool.Rent(), net.Now, a); // a keepalive: starts the handshake
        net.Pump();
        atA.Current.Should().NotBeNull();
        atB.Next.Should().NotBeNull();
        atB.Current.Should().BeNull();

        net.Sent.Clear();
        b.SendIp(a.InnerAddress, marker: 9);
        net.Pump();
        CountType(net, b, MessageLayout.TypeTransport).Should().Be(0, "the responder keeps the packet staged");
        a.Delivered.Should().BeEmpty();

        net.Filter = null;
        a.SendIp(b.InnerAddress);
        net.Pump();
        atB.Current.Should().NotBeNull();
        a.Delivered.Should().ContainSingle(p => p[20] == 9, "the staged packet leaves once the keys are confirmed");
    }

    [Fact]
    public void PresharedKey_MustMatch()
    {
        var psk = new byte[32];
        psk[0] = 1;
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (_, atB) = SimulatedNetwork.Connect(a, b, psk);
        a.SendIp(b.InnerAddress);
        net.Pump();
        b.Delivered.Should().ContainSingle();

        var net2 = new SimulatedNetwork();
        var c = net2.AddNode("c", 1);
        var d = net2.AddNode("d", 2);
        var (atC, _) = SimulatedNetwork.Connect(c, d, psk);
        var other = (byte[])psk.Clone();
        other[1] = 2;
        atC.SetPresharedKey(other);
        c.SendIp(d.InnerAddress);
        net2.Pump();
        d.Delivered.Should().BeEmpty();
        atC.Current.Should().BeNull();
        c.Endpoint.Counters[WireGuardDropReason.InvalidResponse].Should().Be(1);
        atB.Should().NotBeNull();
    }

    [Fact]
    public void InnerSourceOutsideAllowedIps_IsDropped()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        net.Pump();
        b.Delivered.Should().ContainSingle();

        var spoofed = net.Pool.Rent();
        SimulatedNetwork.WriteIpv4(spoofed.Append(40), IPAddress.Parse("10.0.0.99"), b.InnerAddress, 1);
        a.Endpoint.SendPacket(spoofed, net.Now, a);
        net.Pump();
        b.Delivered.Should().ContainSingle();
        b.Endpoint.Counters[WireGuardDropReason.AllowedIpsMismatch].Should().Be(1);
    }

    [Fact]
    public void PacketWithoutRoute_IsDroppedAndCounted()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        a.SendIp(IPAddress.Parse("10.9.9.9"));
        a.Endpoint.Counters[WireGuardDropReason.NoRoute].Should().Be(1);
        net.Sent.Should().BeEmpty();
    }

    [Fact]
    public void ReplayedTransportMessage_IsDropped()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        net.Pump();
        var data = net.Sent.Last(s => s.From == a.Address && s.Bytes[0] == MessageLayout.TypeTransport && s.Bytes.Length > 32);
        b.Receive(data.Bytes, a.Address);
        b.Delivered.Should().ContainSingle();
        b.Endpoint.Counters[WireGuardDropReason.ReplayedCounter].Should().Be(1);
    }

    [Fact]
    public void ReplayedInitiation_IsRejected_AndFloodRuleApplies()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, _) = SimulatedNetwork.Connect(a, b);

        a.Endpoint.InitiateHandshake(atA, net.Now, a);
        atA.Handshake.LastSentHandshake = Timestamps.Never;
        a.Endpoint.InitiateHandshake(atA, net.Now, a);
        var initiations = net.Sent.Where(s => s.Bytes[0] == MessageLayout.TypeInitiation).Select(s => s.Bytes).ToList();
        initiations.Should().HaveCount(2);
        net.DropInFlight();

        b.Receive(initiations[0], a.Address);
        CountType(net, b, MessageLayout.TypeResponse).Should().Be(1);

        net.Now += TimeSpan.FromMilliseconds(10).Ticks;
        b.Receive(initiations[1], a.Address);
        b.Endpoint.Counters[WireGuardDropReason.FloodedInitiation].Should().Be(1, "50 initiations per second at most");
        CountType(net, b, MessageLayout.TypeResponse).Should().Be(1);

        net.Now += TimeSpan.FromMilliseconds(20).Ticks;
        b.Receive(initiations[1], a.Address);
        CountType(net, b, MessageLayout.TypeResponse).Should().Be(2, "a rejected initiation changed nothing, so it is accepted later");

        net.Now += TimeSpan.FromSeconds(1).Ticks;
        b.Receive(initiations[0], a.Address);
        b.Receive(initiations[1], a.Address);
        b.Endpoint.Counters[WireGuardDropReason.ReplayedInitiation].Should().Be(2, "timestamps must strictly increase");
        CountType(net, b, MessageLayout.TypeResponse).Should().Be(2);
    }

    [Fact]
    public void Roaming_AuthenticatedPacketFromNewAddress_MovesTheEndpoint()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (_, atB) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        net.Pump();
        atB.Endpoint.Should().Be(a.Address);

        // Forged source: an unauthenticated packet never moves the endpoint.
        var bogus = UnderlayAddress.FromIPv4(new byte[] { 198, 51, 100, 9 }, 9999);
        var garbage = new byte[64];
        garbage[0] = 4;
        b.Receive(garbage, bogus);
        atB.Endpoint.Should().Be(a.Address);

        var moved = UnderlayAddress.FromIPv4(new byte[] { 192, 0, 2, 1 }, 40000);
        a.Address = moved;
        a.SendIp(b.InnerAddress);
        // The simulated network routes by destination only; deliver the in-flight packet from the new source.
        net.Pump();
        atB.Endpoint.Should().Be(moved);
        b.Endpoint.Counters.Roams.Should().Be(1);
    }

    [Fact]
    public void FixedEndpoint_AuthenticatedPacketFromNewAddress_KeepsTheEndpoint()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (_, atB) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        net.Pump();
        atB.Endpoint.Should().Be(a.Address);

        // The path layer owns the endpoint (control mode): packets from another source are accepted, not roamed to.
        atB.FixedEndpoint = true;
        var delivered = b.Delivered.Count;
        var original = a.Address;
        a.Address = UnderlayAddress.FromIPv4(new byte[] { 192, 0, 2, 1 }, 40000);
        a.SendIp(b.InnerAddress);
        net.Pump();
        b.Delivered.Count.Should().BeGreaterThan(delivered, "the packet is authenticated, so it is delivered");
        atB.Endpoint.Should().Be(original);
        b.Endpoint.Counters.Roams.Should().Be(0);
    }

    private static TsNet.Packets.Buffers.PacketBuffer Keepalive(SimulatedNetwork net) => net.Pool.Rent();
}
