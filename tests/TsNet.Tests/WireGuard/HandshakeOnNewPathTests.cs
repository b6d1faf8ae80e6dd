using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>
/// <see cref="WireGuardEndpoint.HandshakeOnNewPath"/>: when the path layer confirms a path, a peer that is trying to
/// talk and has no session handshakes at once, past the REKEY_TIMEOUT throttle; a peer with a session or at rest does not.
/// </summary>
public sealed class HandshakeOnNewPathTests
{
    [Fact]
    public void LostInitiation_NewPath_InitiatesAgainAtOnce_AndTheSessionComes()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, _) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        net.DropInFlight(); // the first initiation went down a path that delivered nothing
        var sent = a.Endpoint.Counters.HandshakeInitiationsSent;

        // Within REKEY_TIMEOUT WireGuard alone would not try again.
        a.Endpoint.InitiateHandshake(atA, net.Now, a);
        a.Endpoint.Counters.HandshakeInitiationsSent.Should().Be(sent, "the throttle holds without a new path");

        a.Endpoint.HandshakeOnNewPath(atA, net.Now, a);
        a.Endpoint.Counters.HandshakeInitiationsSent.Should().Be(sent + 1);
        a.Endpoint.PathChangeHandshakes.Should().Be(1);
        net.Pump();
        atA.Current.Should().NotBeNull("the new initiation completed the handshake");
        b.Delivered.Should().NotBeEmpty("the staged packet went out once the session came");
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
    public void ResponderWhoseResponseWasLost_NewPath_InitiatesItself()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (_, atB) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        net.Filter = (from, _, bytes) => !(from == b.Address && bytes[0] == (byte)MessageLayout.TypeResponse);
        net.Pump();
        atB.Next.Should().NotBeNull("b answered, but its response was lost");
        atB.Current.Should().BeNull();

        net.Filter = null;
        b.Endpoint.HandshakeOnNewPath(atB, net.Now, b);
        b.Endpoint.PathChangeHandshakes.Should().Be(1);
        net.Pump();
        atB.Current.Should().NotBeNull("b's own initiation over the new path completed a session");
    }
}
