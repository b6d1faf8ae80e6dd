using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>
/// <see cref="WireGuardEndpoint.HandshakeOnNewPath"/>: when the path layer confirms a path, a peer that is trying to
/// talk and has no session sends its last handshake message again while that still stands for a live handshake, else
/// a fresh initiation, past the REKEY_TIMEOUT throttle; a peer with a session or at rest sends nothing.
/// </summary>
public sealed class HandshakeOnNewPathTests
{
    [Fact]
    public void LostInitiation_NewPath_SendsTheSameInitiationAgain_AndTheSessionComes()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, _) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        var initiation = net.Sent[^1].Bytes;
        net.DropInFlight(); // the first initiation went down a path that delivered nothing
        var sent = a.Endpoint.Counters.HandshakeInitiationsSent;

        // Within REKEY_TIMEOUT WireGuard alone would not try again.
        a.Endpoint.InitiateHandshake(atA, net.Now, a);
        a.Endpoint.Counters.HandshakeInitiationsSent.Should().Be(sent, "the throttle holds without a new path");

        a.Endpoint.HandshakeOnNewPath(atA, net.Now, a);
        a.Endpoint.PathChangeResends.Should().Be(1);
        a.Endpoint.PathChangeHandshakes.Should().Be(0);
        a.Endpoint.Counters.HandshakeInitiationsSent.Should().Be(sent, "a copy, not a new handshake");
        net.Sent[^1].Bytes.Should().Equal(initiation, "the very message that was lost");
        net.Pump();
        atA.Current.Should().NotBeNull("the re-sent initiation completed the handshake");
        b.Delivered.Should().NotBeEmpty("the staged packet went out once the session came");
    }

    [Fact]
    public void LostInitiation_OlderThanRekeyTimeout_NewPath_InitiatesAfresh()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, _) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        net.DropInFlight();
        net.Now += TimeSpan.FromSeconds(6).Ticks; // no timer ran: the initiation is still the last message, but stale
        var sent = a.Endpoint.Counters.HandshakeInitiationsSent;

        a.Endpoint.HandshakeOnNewPath(atA, net.Now, a);
        a.Endpoint.PathChangeResends.Should().Be(0);
        a.Endpoint.PathChangeHandshakes.Should().Be(1);
        a.Endpoint.Counters.HandshakeInitiationsSent.Should().Be(sent + 1);
        net.Pump();
        atA.Current.Should().NotBeNull();
    }

    [Fact]
    public void PeerWithSessionOrAtRest_NewPath_SendsNothing()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, _) = SimulatedNetwork.Connect(a, b);

        // At rest: never tried to talk.
        a.Endpoint.HandshakeOnNewPath(atA, net.Now, a);
        a.Endpoint.Counters.HandshakeInitiationsSent.Should().Be(0);

        a.SendIp(b.InnerAddress);
        net.Pump();
        atA.Current.Should().NotBeNull();
        var sent = a.Endpoint.Counters.HandshakeInitiationsSent;
        a.Endpoint.HandshakeOnNewPath(atA, net.Now, a);
        a.Endpoint.Counters.HandshakeInitiationsSent.Should().Be(sent, "a working session needs no new handshake");
        a.Endpoint.PathChangeHandshakes.Should().Be(0);
    }

    [Fact]
    public void ResponderWhoseResponseWasLost_NewPath_SendsTheResponseAgain_AndBothEndsGetTheSession()
    {
        var (net, a, b, atA, atB) = PairWhoseFirstResponseWasLost();
        b.Endpoint.HandshakeOnNewPath(atB, net.Now, b);
        b.Endpoint.PathChangeResends.Should().Be(1);
        b.Endpoint.Counters.HandshakeInitiationsSent.Should().Be(0, "b answers; it does not start a handshake of its own");
        net.Pump();
        atA.Current.Should().NotBeNull("a still held the handshake the response answers");
        atB.Current.Should().NotBeNull("a's staged packet confirmed b's session");
        b.Delivered.Should().NotBeEmpty();
    }

    [Fact]
    public void BothEndsLearnTheNewPathAtOnce_AfterALostResponse_NoCrossedHandshakes()
    {
        // What the interop flake showed: a's initiation arrived, b's answer went to a DERP region that was down; then
        // disco confirmed the direct path at both ends within a millisecond. Two fresh initiations crossed there, each
        // end replaced the state the other's response answered, and nothing worked until REKEY_TIMEOUT.
        var (net, a, b, atA, atB) = PairWhoseFirstResponseWasLost();
        net.Now += TimeSpan.FromMilliseconds(60).Ticks; // past the initiation flood limit (50 ms), as disco's round trip was

        a.Endpoint.HandshakeOnNewPath(atA, net.Now, a);
        b.Endpoint.HandshakeOnNewPath(atB, net.Now, b);
        net.Pump();

        atA.Current.Should().NotBeNull();
        atB.Current.Should().NotBeNull();
        b.Delivered.Should().NotBeEmpty("a's staged packet arrived without waiting for a retry");
        a.Endpoint.Counters.Snapshot().Should().NotContainKey(WireGuardDropReason.UnknownReceiverIndex.ToString());
        b.Endpoint.Counters.Snapshot().Should().NotContainKey(WireGuardDropReason.UnknownReceiverIndex.ToString());
    }

    [Fact]
    public void InitiationDroppedForWantOfAnEndpoint_EndpointThenNewPath_SameInitiationGoesOut()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, _) = SimulatedNetwork.Connect(a, b, aKnowsEndpoint: false);
        a.SendIp(b.InnerAddress);
        a.Endpoint.Counters.Snapshot().Should().ContainKey(WireGuardDropReason.NoEndpoint.ToString());
        net.InFlightCount.Should().Be(0);

        a.Endpoint.ConfigureEndpoint(atA, b.Address);
        a.Endpoint.HandshakeOnNewPath(atA, net.Now, a);
        a.Endpoint.PathChangeResends.Should().Be(1);
        net.Pump();
        atA.Current.Should().NotBeNull();
        b.Delivered.Should().NotBeEmpty("the packet staged behind the dropped initiation arrived");
    }

    /// <summary>a sent a packet to b; b's response to a's initiation was lost, so b holds an unconfirmed session.</summary>
    private static (SimulatedNetwork Net, SimulatedNetwork.Node A, SimulatedNetwork.Node B, WireGuardPeer AtA, WireGuardPeer AtB) PairWhoseFirstResponseWasLost()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, atB) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        net.Filter = (from, _, bytes) => !(from == b.Address && bytes[0] == (byte)MessageLayout.TypeResponse);
        net.Pump();
        atB.Next.Should().NotBeNull("b answered, but its response was lost");
        atB.Current.Should().BeNull();
        net.Filter = null;
        return (net, a, b, atA, atB);
    }
}
