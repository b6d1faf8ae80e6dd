using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Relay;

/// <summary>The relay core under concurrent packet handling, allocation and collection (it serves several sockets at once).</summary>
public class RelayConcurrencyTests
{
    [Fact]
    public void ConcurrentForwarding_Binds_Allocations_AndCollections_KeepCountersConsistent()
    {
        var h = new RelayCoreHarness();
        var endpoint = h.Allocate();
        h.Bind(h.A, endpoint);
        h.Bind(h.B, endpoint);
        var fromA = RelayCoreHarness.Data(endpoint, 1);
        var fromB = RelayCoreHarness.Data(endpoint, 2);
        var bindA = RelayCoreHarness.BindBytes(h.NewHandshake(h.A, endpoint));
        const int PacketsPerThread = 5000;
        var forwarded = new long[4];
        var failures = 0;
        using var start = new Barrier(5);

        var workers = Enumerable.Range(0, 4).Select(worker => new Thread(() =>
        {
            var reply = new byte[RelayServerCore.MaxReplyLength];
            start.SignalAndWait(TimeSpan.FromSeconds(10));
            for (int i = 0; i < PacketsPerThread; i++)
            {
                // Mostly data both ways, sometimes a Bind (crypto on the same endpoint, concurrently).
                var (packet, from) = (i % 50) switch
                {
                    0 => (bindA, h.A.Address),
                    _ when (i + worker) % 2 == 0 => (fromA, h.A.Address),
                    _ => (fromB, h.B.Address),
                };
                var outcome = h.Core.HandlePacket(packet, from, h.Now, reply, out _, out var destination);
                if (outcome == RelayPacketOutcome.Forward)
                {
                    forwarded[worker]++;
                    if (destination != (from == h.A.Address ? h.B.Address : h.A.Address))
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                else if (outcome != RelayPacketOutcome.Reply)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToList();

        // Meanwhile: other pairs come and go.
        var churn = new Thread(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(10));
            for (int i = 0; i < 200; i++)
            {
                h.Core.Allocate(DiscoKey.Generate().PublicKey, DiscoKey.Generate().PublicKey, h.Now, out _);
                h.Core.CollectGarbage(h.Now);
            }
        });

        workers.ForEach(t => t.Start());
        churn.Start();
        workers.Append(churn).ToList().ForEach(t => t.Join(TimeSpan.FromSeconds(60)).Should().BeTrue());

        failures.Should().Be(0);
        h.Core.ForwardedPackets.Should().Be(forwarded.Sum());
        h.Core.ForwardedPackets.Should().Be(4 * (PacketsPerThread - (PacketsPerThread / 50)));
        h.Core.ChallengesSent.Should().Be(2 + (4 * (PacketsPerThread / 50)));
        h.Core.EndpointCount.Should().Be(201, "nothing expired: time did not move");
        lock (endpoint.Gate)
        {
            (endpoint.Forwarded(0).Packets + endpoint.Forwarded(1).Packets).Should().Be(forwarded.Sum());
        }
    }

    [Fact]
    public void NextGeneration_SkipsZero_OnWraparound()
    {
        uint counter = uint.MaxValue - 1;
        RelayHandshakeClient.NextGeneration(ref counter).Should().Be(uint.MaxValue);
        RelayHandshakeClient.NextGeneration(ref counter).Should().Be(1);
        RelayHandshakeClient.NextGeneration(ref counter).Should().Be(2);
    }
}
