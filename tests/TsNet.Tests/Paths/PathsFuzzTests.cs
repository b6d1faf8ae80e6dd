using TsNet.Paths;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Paths;

/// <summary>Hostile bytes into the disco and STUN entry points: dropped and counted, never thrown.</summary>
public sealed class PathsFuzzTests
{
    [Fact]
    public void RandomAndMutatedDisco_NeverThrows_AndEveryPacketIsAccountedFor()
    {
        var net = new DiscoTestNetwork();
        var a = net.AddNode("A", "198.51.100.1:41641");
        var b = net.AddNode("B", "203.0.113.2:41641");
        b.Knows(a);
        a.Knows(b);
        a.Core.SetLocalEndpoints([a.Address.ToIPEndPoint()], net.Now);
        var random = new Random(99);
        a.Send(a.Core.PeerForNodeKey(b.NodeKey));
        var valid = a.UdpSent.Select(s => s.Datagram).Concat(a.DerpSent.Select(d => d.Datagram)).ToArray();

        for (int i = 0; i < 20_000; i++)
        {
            byte[] packet;
            if (i % 2 == 0)
            {
                packet = new byte[random.Next(0, 200)];
                random.NextBytes(packet);
                if (i % 4 == 0 && packet.Length >= 38)
                {
                    // Disco-shaped with B's real peer as sender: must reach the box check.
                    DiscoPacket.Magic.CopyTo(packet);
                    a.DiscoPublic.CopyTo(packet, 6);
                }
            }
            else
            {
                packet = (byte[])valid[random.Next(valid.Length)].Clone();
                int flips = random.Next(1, 4);
                for (int f = 0; f < flips; f++)
                {
                    packet[random.Next(packet.Length)] ^= (byte)(1 << random.Next(8));
                }
            }

            b.Core.ReceiveUdpDisco(packet, a.Address, net.Now, b);
            b.Core.ReceiveDerpDisco(packet, random.Next(-1, 3), a.NodeKey, net.Now, b);
            StunBindingResponse.TryParse(packet, out _, out _);
        }

        var c = b.Core.Counters;
        long dropped = c.DroppedMalformed + c.DroppedBadBox + c.DroppedUnknownSender + c.DroppedWrongDerpSource + c.DroppedWrongTransport;
        long handled = c.PingsReceived + c.CallMeMaybeReceived + c.UnknownPongs + c.PongsReceived + c.IgnoredMessages;
        (dropped + handled).Should().Be(40_000, "every packet is either handled or counted as dropped");
        c.DroppedBadBox.Should().BeGreaterThan(0);
        c.DroppedMalformed.Should().BeGreaterThan(0);
        c.DroppedUnknownSender.Should().BeGreaterThan(0);
    }

    [Fact]
    public void RandomStunResponses_NeverThrow()
    {
        var core = new NetcheckCore(random: new Random(3).NextBytes);
        var random = new Random(4);
        core.SetTargets([new StunTarget(1, DiscoTestNetwork.Address("192.0.2.1:3478"), 0, true)], 0);
        for (int i = 0; i < 20_000; i++)
        {
            var packet = new byte[random.Next(0, 80)];
            random.NextBytes(packet);
            if (packet.Length >= 20)
            {
                packet[0] = 0x01;
                packet[1] = 0x01;
                packet[4] = 0x21;
                packet[5] = 0x12;
                packet[6] = 0xa4;
                packet[7] = 0x42;
                packet[2] = 0;
                packet[3] = (byte)random.Next(0, packet.Length - 19);
            }

            core.ReceiveStun(packet, default, i).Should().BeFalse();
        }
    }

    [Fact]
    public void UnknownPeerId_HasNoPath()
    {
        var net = new DiscoTestNetwork();
        var a = net.AddNode("A", "198.51.100.1:41641");
        a.Send(42).Should().Be(default(PathChoice));
        a.Core.GetPathStatus(42, net.Now).Kind.Should().Be(PathKind.None);
        a.Core.NoteDerpArrival(42, 1, net.Now);
        a.UdpSent.Should().BeEmpty();
    }
}
