using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>Rotating a core's static key: sessions dropped, derived keys recomputed, peers handshake again.</summary>
public sealed class WireGuardKeyRotationTests
{
    private static byte[] NewPrivateKey()
    {
        var key = new byte[32];
        X25519.GeneratePrivateKey(key);
        return key;
    }

    [Fact]
    public void SetPrivateKey_DropsSessions_AndThePeerHandshakesWithTheNewKey()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, atB) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress, marker: 1);
        net.Pump();
        atA.Current.Should().NotBeNull();
        var oldPublic = a.Endpoint.PublicKey.ToArray();

        var newKey = NewPrivateKey();
        a.Endpoint.SetPrivateKey(newKey, net.Now, a);

        var newPublic = new byte[32];
        X25519.DerivePublicKey(newKey, newPublic);
        a.Endpoint.PublicKey.ToArray().Should().Equal(newPublic);
        atA.Current.Should().BeNull("sessions of the old identity are dropped");
        atA.SessionState.Should().Be("none");
        a.Endpoint.Indices.Count.Should().Be(0);

        // B learns the new key (as a netmap update would tell it): the old peer goes, the new one comes.
        b.Endpoint.RemovePeer(oldPublic).Should().BeTrue();
        var newAtB = b.Endpoint.AddPeer(newPublic);
        b.Endpoint.SetAllowedIps(newAtB, [(a.InnerAddress, 32)]);
        b.Endpoint.ConfigureEndpoint(newAtB, a.Address);

        a.SendIp(b.InnerAddress, marker: 2);
        net.Pump();

        b.Delivered.Select(p => p[20]).Should().Equal((byte)1, (byte)2);
        newAtB.HandshakesCompleted.Should().Be(1);
        atA.HandshakesCompleted.Should().Be(2);
        atB.Removed.Should().BeTrue();
    }

    [Fact]
    public void SetPrivateKey_RecomputesTheMac1Key_SoMessagesForTheOldKeyAreDropped()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        SimulatedNetwork.Connect(a, b);
        net.Filter = (_, _, _) => false;
        b.SendIp(a.InnerAddress);
        var initiation = net.Sent.Single(s => s.Bytes[0] == MessageLayout.TypeInitiation).Bytes;

        a.Endpoint.SetPrivateKey(NewPrivateKey(), net.Now, a);
        a.Receive(initiation, b.Address);

        a.Endpoint.Counters[WireGuardDropReason.InvalidMac1].Should().Be(1, "mac1 is keyed by the receiver's public key, which changed");
        net.Sent.Count(s => s.From == a.Address).Should().Be(0, "nothing answers an initiation for the old key");
    }

    [Fact]
    public void SetPrivateKey_KeepsStagedPackets_AndInitiatesUnderTheNewKeyAtOnce()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, _) = SimulatedNetwork.Connect(a, b);
        net.Filter = (_, _, _) => false;
        a.SendIp(b.InnerAddress, marker: 5);
        var initiationsBefore = net.Sent.Count(s => s.Bytes[0] == MessageLayout.TypeInitiation);
        atA.Staged.Should().ContainSingle();

        a.Endpoint.SetPrivateKey(NewPrivateKey(), net.Now, a);

        atA.Staged.Should().ContainSingle("staged packets wait for the new session");
        net.Sent.Count(s => s.Bytes[0] == MessageLayout.TypeInitiation).Should().Be(initiationsBefore + 1, "the retry throttle guarded the old identity only");
    }

    [Fact]
    public void SetPrivateKey_RefusesAPeersPublicKey()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        SimulatedNetwork.Connect(a, b);
        var peerPrivate = NewPrivateKey();
        var peerPublic = new byte[32];
        X25519.DerivePublicKey(peerPrivate, peerPublic);
        a.Endpoint.AddPeer(peerPublic);

        var act = () => a.Endpoint.SetPrivateKey(peerPrivate, net.Now, a);

        act.Should().Throw<ArgumentException>();
    }
}
