using System.Text;
using TsNet.Filter;

namespace TsNet.Tests.Filter;

/// <summary>The stateful layer: replies to flows this node opened, TCP judged at SYN, counting, rule swaps, no allocation.</summary>
public sealed class StatefulPacketFilterTests
{
    private const long Second = TimeSpan.TicksPerSecond;
    private const string Me = "100.64.0.2";
    private const string Peer = "100.64.0.1";

    private static PacketFilter Rules(string json) => PacketFilter.Parse(Encoding.UTF8.GetBytes(json));

    private static readonly PacketFilter s_tcp8765 =
        Rules("""[{"SrcIPs":["100.64.0.1"],"DstPorts":[{"IP":"100.64.0.2","Ports":{"First":8765,"Last":8765}}],"IPProto":[6]}]""");

    [Fact]
    public void InboundSynIsJudgedByTheRulesAndCounted()
    {
        var filter = new StatefulPacketFilter(s_tcp8765);
        filter.AllowInbound(TestPackets.Tcp(Peer, 40000, Me, 8765), 0).Should().BeTrue();
        filter.AllowInbound(TestPackets.Tcp(Peer, 40000, Me, 8766), 0).Should().BeFalse();
        filter.AllowInbound(TestPackets.Tcp("100.64.0.3", 40000, Me, 8765), 0).Should().BeFalse();
        filter.Denied.Should().Be(2);
        filter.Malformed.Should().Be(0);
    }

    [Fact]
    public void TcpSegmentsOtherThanTheOpeningSynPass()
    {
        var filter = new StatefulPacketFilter(PacketFilter.DenyAll);
        filter.AllowInbound(TestPackets.Tcp(Peer, 8080, Me, 50000, TestPackets.SynAck), 0).Should().BeTrue();
        filter.AllowInbound(TestPackets.Tcp(Peer, 8080, Me, 50000, TestPackets.Ack), 0).Should().BeTrue();
        filter.AllowInbound(TestPackets.Tcp(Peer, 8080, Me, 50000, TestPackets.Syn), 0).Should().BeFalse();
        filter.Flows.Count.Should().Be(0);
    }

    [Theory]
    [InlineData("100.64.0.2", "100.64.0.1")]
    [InlineData("fd7a:115c:a1e0::2", "fd7a:115c:a1e0::1")]
    public void UdpReplyToAnOutboundFlowPassesUntilIdle(string me, string peer)
    {
        var filter = new StatefulPacketFilter(PacketFilter.DenyAll, flowIdleTimeout: TimeSpan.FromSeconds(30));
        filter.AllowInbound(TestPackets.Udp(peer, 53, me, 41000), 0).Should().BeFalse();

        filter.RecordOutbound(TestPackets.Udp(me, 41000, peer, 53), Second);
        filter.AllowInbound(TestPackets.Udp(peer, 53, me, 41000), 2 * Second).Should().BeTrue();

        // Only the exact reverse tuple: another port of ours, another source port or another peer is new.
        filter.AllowInbound(TestPackets.Udp(peer, 53, me, 41001), 2 * Second).Should().BeFalse();
        filter.AllowInbound(TestPackets.Udp(peer, 54, me, 41000), 2 * Second).Should().BeFalse();
        filter.AllowInbound(TestPackets.Tcp(peer, 53, me, 41000), 2 * Second).Should().BeFalse();

        // Replies keep it alive; 30 s of silence ends it.
        filter.AllowInbound(TestPackets.Udp(peer, 53, me, 41000), 31 * Second).Should().BeTrue();
        filter.AllowInbound(TestPackets.Udp(peer, 53, me, 41000), (61 * Second) + 1).Should().BeFalse();
        filter.Denied.Should().Be(5);
    }

    [Theory]
    [InlineData("100.64.0.2", "100.64.0.1")]
    [InlineData("fd7a:115c:a1e0::2", "fd7a:115c:a1e0::1")]
    public void EchoReplyPassesOnlyForAnEchoThisNodeSent(string me, string peer)
    {
        var filter = new StatefulPacketFilter(PacketFilter.DenyAll);
        filter.AllowInbound(TestPackets.EchoReply(peer, me, 7), 0).Should().BeFalse();
        filter.RecordOutbound(TestPackets.EchoRequest(me, peer, 7), 0);
        filter.AllowInbound(TestPackets.EchoReply(peer, me, 7), 1).Should().BeTrue();
        filter.AllowInbound(TestPackets.EchoReply(peer, me, 8), 1).Should().BeFalse();
        filter.AllowInbound(TestPackets.EchoRequest(peer, me, 7), 1).Should().BeFalse();
    }

    [Fact]
    public void IcmpErrorsAndLaterFragmentsPass()
    {
        var filter = new StatefulPacketFilter(PacketFilter.DenyAll);
        filter.AllowInbound(TestPackets.Unreachable(Peer, Me), 0).Should().BeTrue();
        filter.AllowInbound(TestPackets.Unreachable("fd7a::1", "fd7a::2"), 0).Should().BeTrue();
        filter.AllowInbound(TestPackets.LaterFragmentV4(Peer, Me), 0).Should().BeTrue();
        filter.Denied.Should().Be(0);
    }

    [Fact]
    public void MalformedPacketsAreDroppedAndCountedApart()
    {
        var filter = new StatefulPacketFilter(Rules("""[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]"""));
        filter.AllowInbound([], 0).Should().BeFalse();
        filter.AllowInbound(new byte[] { 0x45, 0, 0, 20 }, 0).Should().BeFalse();
        filter.AllowInbound(TestPackets.Tcp(Peer, 1, Me, 2).AsSpan(0, 30), 0).Should().BeFalse(); // TCP header cut short
        filter.AllowInbound(new byte[40], 0).Should().BeFalse(); // version 0
        filter.Malformed.Should().Be(4);
        filter.Denied.Should().Be(0);
    }

    [Fact]
    public void RuleChangeAppliesToTheNextPacketAndFlowsStay()
    {
        var filter = new StatefulPacketFilter(s_tcp8765);
        filter.RecordOutbound(TestPackets.Udp(Me, 41000, Peer, 53), 0);
        filter.AllowInbound(TestPackets.Tcp(Peer, 40000, Me, 8766), 0).Should().BeFalse();

        filter.Rules = Rules("""[{"SrcIPs":["100.64.0.1"],"DstPorts":[{"IP":"100.64.0.2","Ports":{"First":8766,"Last":8766}}],"IPProto":[6]}]""");
        filter.AllowInbound(TestPackets.Tcp(Peer, 40001, Me, 8766), 1).Should().BeTrue();
        filter.AllowInbound(TestPackets.Tcp(Peer, 40002, Me, 8765), 1).Should().BeFalse();
        filter.AllowInbound(TestPackets.Udp(Peer, 53, Me, 41000), 1).Should().BeTrue();
    }

    [Fact]
    public void OutboundTcpRecordsNoFlow()
    {
        var filter = new StatefulPacketFilter(PacketFilter.DenyAll);
        filter.RecordOutbound(TestPackets.Tcp(Me, 50000, Peer, 80), 0);
        filter.RecordOutbound(TestPackets.EchoReply(Me, Peer, 3), 0);
        filter.Flows.Count.Should().Be(0);
    }

    [Fact]
    public void DecisionsAllocateNothing()
    {
        var rules = Rules("""[{"SrcIPs":["100.64.0.0/10","fd7a:115c:a1e0::/48"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]}]""");
        var filter = new StatefulPacketFilter(rules, flowCapacity: 64);
        var packets = new[]
        {
            TestPackets.Tcp(Peer, 1, Me, 22), TestPackets.Tcp(Peer, 1, Me, 23), TestPackets.Udp(Peer, 53, Me, 41000),
            TestPackets.EchoReply(Peer, Me, 9), TestPackets.Tcp("fd7a:115c:a1e0::1", 1, "fd7a:115c:a1e0::2", 22),
        };
        var outbound = new[] { TestPackets.Udp(Me, 41000, Peer, 53), TestPackets.EchoRequest(Me, Peer, 9) };
        for (var i = 0; i < 100; i++)
        {
            filter.RecordOutbound(outbound[i % 2], i);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            filter.RecordOutbound(outbound[i % 2], 100 + i);
            filter.AllowInbound(packets[i % packets.Length], 100 + i);
        }

        GC.GetAllocatedBytesForCurrentThread().Should().Be(before);
    }
}
