using System.Net;
using TsNet.Netstack;
using TsNet.Netstack.Sockets;
using TsNet.Netstack.Tcp;
using TsNet.Packets;
using TsNet.Packets.Buffers;

namespace TsNet.Tests.Netstack;

/// <summary>How the core routes inbound SYNs: listeners, the unmatched-flow hook (also for non-local destinations), RST.</summary>
public sealed class TcpDemuxTests
{
    private static readonly IPAddress Us = IPAddress.Parse("100.64.0.2");
    private static readonly IPAddress Peer = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress Elsewhere = IPAddress.Parse("198.18.0.5");
    private readonly PacketBufferPool _pool = new();

    private NetstackCore NewCore() => new(new NetstackOptions { Addresses = [Us], Pool = _pool });

    private PacketBuffer Syn(IPAddress destination, ushort port, uint isn = 1000) => SynPackets.Build(_pool, Peer, 40000, destination, port, isn);

    internal static List<(TcpFlags Flags, IPAddress Source, ushort SourcePort)> DrainSegments(NetstackCore core, long now) => Drain(core, now);

    private static List<(TcpFlags Flags, IPAddress Source, ushort SourcePort)> Drain(NetstackCore core, long now)
    {
        var touched = new List<TcpSocket>();
        core.TakeTouchedTcp(touched);
        foreach (var socket in touched)
        {
            core.FlushTcp(socket, now);
        }

        var sent = new List<(TcpFlags, IPAddress, ushort)>();
        while (core.TryDequeueOutbound(out var packet))
        {
            Ipv4Packet.TryCreate(packet.Span, out var ip).Should().BeTrue();
            TcpSegment.TryCreate(ip.Payload, out var tcp).Should().BeTrue();
            sent.Add((tcp.Flags, ip.GetSourceAddress(), tcp.SourcePort));
            packet.Return();
        }

        return sent;
    }

    [Fact]
    public void SynToClosedLocalPort_WithoutHook_GetsRst()
    {
        var core = NewCore();
        core.ProcessInbound(Syn(Us, 80), 0);
        Drain(core, 0).Should().ContainSingle().Which.Flags.Should().Be(TcpFlags.Rst | TcpFlags.Ack);
    }

    [Fact]
    public void SynToNonLocalAddress_WithoutHook_IsDroppedSilently()
    {
        var core = NewCore();
        core.ProcessInbound(Syn(Elsewhere, 80), 0);
        Drain(core, 0).Should().BeEmpty();
        core.Counters.Dropped(NetstackDropReason.NotOurAddress).Should().Be(1);
    }

    [Fact]
    public void Hook_ClaimsNonLocalFlow_AndAnswersFromThatAddress()
    {
        var core = NewCore();
        IPEndPoint? seenSource = null, seenDestination = null;
        core.UnmatchedTcpFlow = (source, destination) =>
        {
            seenSource = source;
            seenDestination = destination;
            return new UnmatchedTcpFlowClaim(_ => { });
        };
        core.ProcessInbound(Syn(Elsewhere, 80), 0);
        var sent = Drain(core, 0);
        sent.Should().ContainSingle();
        sent[0].Flags.Should().Be(TcpFlags.Syn | TcpFlags.Ack);
        sent[0].Source.Should().Be(Elsewhere, "the claimed flow is answered as the address it was sent to");
        sent[0].SourcePort.Should().Be(80);
        seenSource.Should().Be(new IPEndPoint(Peer, 40000));
        seenDestination.Should().Be(new IPEndPoint(Elsewhere, 80));
        core.TcpConnectionCount.Should().Be(1);
    }

    [Fact]
    public void Hook_ClaimedFlowThatNeverCompletesItsHandshake_IsAbandoned()
    {
        var core = NewCore();
        var (established, abandoned) = (0, 0);
        core.UnmatchedTcpFlow = (_, _) => new UnmatchedTcpFlowClaim(_ => established++, () => abandoned++);
        core.ProcessInbound(Syn(Elsewhere, 80), 0);
        Drain(core, 0).Should().ContainSingle().Which.Flags.Should().Be(TcpFlags.Syn | TcpFlags.Ack);

        // The peer never ACKs: SYN-ACK retransmissions run out (well within 10 virtual minutes), the flow is abandoned.
        var now = 0L;
        for (var step = 0; step < 600 && core.TcpConnectionCount > 0; step++)
        {
            now += System.Diagnostics.Stopwatch.Frequency;
            core.Poll(now);
            Drain(core, now);
        }

        core.TcpConnectionCount.Should().Be(0);
        abandoned.Should().Be(1, "the claimant learns the flow is gone and can release its slot");
        established.Should().Be(0);
    }

    [Fact]
    public void Hook_Declining_MeansRst()
    {
        var core = NewCore();
        core.UnmatchedTcpFlow = (_, _) => null;
        core.ProcessInbound(Syn(Us, 81), 0);
        Drain(core, 0).Should().ContainSingle().Which.Flags.Should().Be(TcpFlags.Rst | TcpFlags.Ack);
        core.TcpConnectionCount.Should().Be(0);
    }

    [Fact]
    public void Listener_TakesPrecedenceOverHook()
    {
        var core = NewCore();
        var hookCalls = 0;
        core.UnmatchedTcpFlow = (_, _) =>
        {
            hookCalls++;
            return new UnmatchedTcpFlowClaim(_ => { });
        };
        core.ListenTcp(80);
        core.ProcessInbound(Syn(Us, 80), 0);
        Drain(core, 0).Should().ContainSingle().Which.Flags.Should().Be(TcpFlags.Syn | TcpFlags.Ack);
        hookCalls.Should().Be(0);
    }

    [Fact]
    public void Backlog_IsBounded()
    {
        var core = new NetstackCore(new NetstackOptions { Addresses = [Us], Pool = _pool, TcpListenBacklog = 4 });
        core.ListenTcp(80);
        for (var i = 0; i < 10; i++)
        {
            var endpoints = new TcpEndpoints(TcpAddress.FromIPAddress(Peer), (ushort)(41000 + i), TcpAddress.FromIPAddress(Us), 80);
            var header = new TcpHeader { SourcePort = (ushort)(41000 + i), DestinationPort = 80, SequenceNumber = new SeqNum(5), Flags = TcpFlags.Syn, Window = 1000 };
            var buffer = _pool.Rent();
            var span = buffer.Append(20 + header.Length);
            var length = header.Emit(span[20..]);
            endpoints.FillChecksum(span.Slice(20, length));
            new Ipv4Header(Ipv4Header.ToValue(Peer), Ipv4Header.ToValue(Us), IpProtocol.Tcp, 64, length).Emit(span);
            core.ProcessInbound(buffer, 0);
        }

        core.TcpConnectionCount.Should().Be(4);
        core.Counters.Dropped(NetstackDropReason.TcpBacklogFull).Should().Be(6);
        Drain(core, 0).Should().HaveCount(4).And.OnlyContain(s => s.Flags == (TcpFlags.Syn | TcpFlags.Ack));
    }
}
