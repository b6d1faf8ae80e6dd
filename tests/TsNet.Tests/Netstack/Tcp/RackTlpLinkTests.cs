using TsNet.Netstack.Tcp;
using TsNet.Packets;
using Xunit.Abstractions;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>RACK-TLP over the simulated link: reordering without loss, and a lost tail.</summary>
public sealed class RackTlpLinkTests(ITestOutputHelper output)
{
    private static readonly long Ms = TimeSpan.TicksPerMillisecond;

    [Theory]
    [InlineData(0.03, 3)]
    [InlineData(0.05, 3)]
    [InlineData(0.05, 8)]
    public void Reordering_NoLoss_FarFewerRetransmissionsThanDupThresh(double rate, int delayMs)
    {
        var withoutRack = Run(rackTlp: false);
        var withRack = Run(rackTlp: true);
        withoutRack.Completed.Should().BeTrue();
        withRack.Completed.Should().BeTrue();
        withRack.HashMatches.Should().BeTrue();
        withRack.Server!.Counters.ReassemblyDrops.Should().Be(0, "only reordering, no receiver drops");

        long before = withoutRack.Client.Counters.Retransmissions;
        long after = withRack.Client.Counters.Retransmissions;
        output.WriteLine($"reorder {rate:P0} by {delayMs} ms: retransmissions DupThresh {before} → RACK {after}");
        before.Should().BeGreaterThan(20, "the scenario must provoke spurious fast retransmits without RACK");
        // RACK pays for the first event (no reordering seen yet: DupThresh speed) and for ACKs that are themselves
        // held back past the window; DupThresh pays for nearly every held-back segment.
        after.Should().BeLessThanOrEqualTo(Math.Max(6, before / 6));
        withRack.Now.Should().BeLessThan(withoutRack.Now / 2, "spurious recoveries halve cwnd each time");

        TcpLinkSimulator Run(bool rackTlp)
        {
            // A 256 KiB window: the simulated link has no bandwidth limit, and a slow start into thousands of segments
            // would hold back more segments per flight than the receiver keeps holes (real drops, not reordering).
            var config = TcpConfig.Default with { RackTlp = rackTlp, ReceiveBufferSize = 256 * 1024, MaxReceiveBufferSize = 256 * 1024 };
            var sim = new TcpLinkSimulator(seed: 5, bytes: 2 * 1024 * 1024, config)
            {
                Jitter = 0,
                ReorderRate = rate,
                ReorderDelay = delayMs * Ms,
            };
            sim.Run(TimeSpan.FromSeconds(120).Ticks);
            Report(sim, rackTlp ? "RACK" : "DupThresh");
            return sim;
        }
    }

    [Fact]
    public void TailLoss_ProbeRepairsFasterThanRto()
    {
        var withoutTlp = Run(rackTlp: false);
        var withTlp = Run(rackTlp: true);
        withoutTlp.Completed.Should().BeTrue();
        withTlp.Completed.Should().BeTrue();
        withTlp.HashMatches.Should().BeTrue();
        withoutTlp.Client.Counters.RetransmitTimeouts.Should().BeGreaterThan(0);
        withTlp.Client.Counters.RetransmitTimeouts.Should().Be(0);
        withTlp.Client.Counters.TailLossProbes.Should().BeGreaterThan(0);

        double rto = TimeSpan.FromTicks(withoutTlp.DataDeliveredAt!.Value).TotalMilliseconds;
        double tlp = TimeSpan.FromTicks(withTlp.DataDeliveredAt!.Value).TotalMilliseconds;
        output.WriteLine($"last 3 segments lost: delivered after {rto:F0} ms with RTO, {tlp:F0} ms with TLP");
        tlp.Should().BeLessThan(rto - 100);

        TcpLinkSimulator Run(bool rackTlp)
        {
            const int Bytes = 20 * 1024;
            SeqNum? isn = null;
            var dropped = new HashSet<uint>();
            var sim = new TcpLinkSimulator(seed: 9, bytes: Bytes, TcpConfig.Default with { RackTlp = rackTlp })
            {
                Jitter = 0,
                Drop = (toServer, header, payloadLength) =>
                {
                    if (!toServer)
                    {
                        return false;
                    }

                    if (header.Has(TcpFlags.Syn))
                    {
                        isn = header.SequenceNumber;
                        return false;
                    }

                    // The first transmission of every data segment reaching into the last 2456 bytes: the last three
                    // segments of the stream (the FIN rides on the last).
                    int offset = header.SequenceNumber - (isn!.Value + 1);
                    return payloadLength > 0 && offset + payloadLength > Bytes - (2 * 1228) && dropped.Add(header.SequenceNumber.Value);
                },
            };
            sim.Run(TimeSpan.FromSeconds(30).Ticks);
            Report(sim, rackTlp ? "TLP" : "no TLP");
            return sim;
        }
    }

    private void Report(TcpLinkSimulator sim, string label)
    {
        var c = sim.Client.Counters;
        output.WriteLine(
            $"{label}: virtual {TimeSpan.FromTicks(sim.Now).TotalMilliseconds:F0} ms, delivered at {TimeSpan.FromTicks(sim.DataDeliveredAt ?? 0).TotalMilliseconds:F0} ms, "
            + $"{sim.SegmentsOnLink} segments ({sim.SegmentsReordered} reordered, {sim.SegmentsLost} lost), retransmissions {c.Retransmissions}, "
            + $"fast retransmits {c.FastRetransmits}, timeouts {c.RetransmitTimeouts}, probes {c.TailLossProbes}, D-SACKs {c.DsacksReceived}, "
            + $"undone {c.UndoneReductions}, cwnd {sim.Client.Congestion.Window}, receiver drops {sim.Server?.Counters.ReassemblyDrops}");
    }
}
