using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Netstack;
using TsNet.Packets;
using TsNet.Packets.Buffers;
using TsNet.Services.Fallback;

namespace TsNet.Tests.Netstack;

/// <summary>
/// The fallback router as the netstack's unmatched-flow hook under a port scan and a SYN flood (raw SYNs into the
/// core): the claimed flows, the connection table and the router's port table stay within their bounds, and no
/// handler task is started for a handshake that never completes.
/// </summary>
public sealed class FallbackFloodTests
{
    private static readonly IPAddress Us = IPAddress.Parse("100.64.0.2");
    private static readonly IPAddress Scanner = IPAddress.Parse("100.64.0.1");
    private readonly PacketBufferPool _pool = new();

    [Fact]
    public void PortScan_And_SynFlood_StayWithinTheFallbackBounds()
    {
        var clock = new ManualTimeProvider();
        var started = 0;
        var router = new FallbackTcpRouter(new FallbackTcpLimits(), clock, NullLogger.Instance, _ => Interlocked.Increment(ref started), CancellationToken.None);
        router.Register((_, _) => FallbackDecision.Accept((_, _) => Task.CompletedTask));
        var core = new NetstackCore(new NetstackOptions { Addresses = [Us], Pool = _pool });
        core.UnmatchedTcpFlow = router.Decide;

        // Port scan: one SYN to each of 5 000 ports on an address the node answers for as a router.
        var target = IPAddress.Parse("198.18.0.5");
        var (synAcks, resets) = (0, 0);
        for (var port = 1; port <= 5000; port++)
        {
            core.ProcessInbound(SynPackets.Build(_pool, Scanner, 40000, target, (ushort)port), 0);
            foreach (var segment in TcpDemuxTests.DrainSegments(core, 0))
            {
                synAcks += segment.Flags == (TcpFlags.Syn | TcpFlags.Ack) ? 1 : 0;
                resets += (segment.Flags & TcpFlags.Rst) != 0 ? 1 : 0;
            }
        }

        synAcks.Should().Be(1024, "one claimed flow per port until 1024 ports have state");
        resets.Should().Be(5000 - 1024, "the rest are refused at once");
        router.Ports.PortCount.Should().Be(1024);
        core.TcpConnectionCount.Should().Be(1024);

        // SYN flood to one claimed port from 20 000 source ports: at most 512 in flight (1 already is).
        var flooded = 0;
        for (var i = 0; i < 20_000; i++)
        {
            core.ProcessInbound(SynPackets.Build(_pool, Scanner, (ushort)(1024 + i), target, 1), 0);
            flooded += TcpDemuxTests.DrainSegments(core, 0).Count(s => s.Flags == (TcpFlags.Syn | TcpFlags.Ack));
        }

        flooded.Should().Be(511);
        router.Ports.InFlight(1).Should().Be(512);
        core.TcpConnectionCount.Should().Be(1024 + 511);
        started.Should().Be(0, "no handshake completed, so no handler task was started");

        // Nobody completes a handshake: once SYN-ACK retries run out every flow is abandoned and its slot freed.
        var now = 0L;
        for (var step = 0; step < 600 && core.TcpConnectionCount > 0; step++)
        {
            now += System.Diagnostics.Stopwatch.Frequency;
            core.Poll(now);
            TcpDemuxTests.DrainSegments(core, now);
        }

        core.TcpConnectionCount.Should().Be(0);
        router.Ports.InFlight(1).Should().Be(0);
        _pool.CreatedCount.Should().BeLessThan(5000, "buffers are returned and reused, not accumulated per SYN");
    }
}
