using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Netstack;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Dataplane;

/// <summary>
/// The bind schedule of a relay path on the node's clock (a manual one here): Bind resent every second while
/// unanswered, a rebind 10 s after an unconfirmed Answer, a refresh every 2 min once relayed data came back, and a
/// failed handshake after 10 unanswered Binds. The relay is a <see cref="RelayServerCore"/> behind a loopback socket
/// that the test pumps by hand.
/// </summary>
public sealed class RelayPathTimerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task BindSchedule_FollowsTheNodesClock()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var clock = new ManualTimeProvider();
        var serverKey = DiscoKey.Generate();
        var core = new RelayServerCore(serverKey.Bytes, new RelayServerSettings());
        using var relay = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        relay.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var peerDisco = DiscoKey.Generate();
        await using var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            TimeProvider = clock,
        });
        core.Allocate(node.DiscoPublicKey, peerDisco.PublicKey, 1, out var endpoint).Should().Be(RelayAllocationStatus.Allocated);
        await node.StartAsync(cts.Token);
        node.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = WireGuardKey.Generate().PublicKey,
            AllowedIps = { IPNetwork.Parse("100.64.0.2/32") },
            Relay = new TailnetRelayPath
            {
                Address = (IPEndPoint)relay.LocalEndPoint!,
                ServerDiscoKey = serverKey.PublicKey,
                Vni = endpoint!.Vni,
                PeerDiscoKey = peerDisco.PublicKey,
            },
        });

        // First handshake as soon as the peer is configured: Bind → Challenge → Answer.
        (await PumpAsync()).Should().Be(RelayPacketOutcome.Reply);
        (await PumpAsync()).Should().Be(RelayPacketOutcome.Consumed);
        core.LegsBound.Should().Be(1);
        var first = await InspectAfterTurnAsync();
        first.Should().Be((true, 1L, first.Generation));

        // No relayed data back yet: 10 s later the node rebinds with a new generation (the Answer may have been lost).
        await AdvanceAsync(TimeSpan.FromSeconds(9));
        relay.Available.Should().Be(0, "nothing is due before 10 s");
        await AdvanceAsync(TimeSpan.FromSeconds(1));
        (await PumpAsync()).Should().Be(RelayPacketOutcome.Reply);
        (await PumpAsync()).Should().Be(RelayPacketOutcome.Consumed);
        var second = await InspectAfterTurnAsync();
        second.Generation.Should().BeGreaterThan(first.Generation);
        second.Handshakes.Should().Be(2);

        // Relayed data arrives (the relay forwards for us): confirmed, so the next rebind is the 2-minute refresh.
        var data = new byte[GeneveHeader.Length + MessageLayout.TransportHeaderSize + 16];
        new GeneveHeader(0, false, GeneveHeader.ProtocolWireGuard, endpoint.Vni).Encode(data);
        // A malformed cookie reply: it reaches WireGuard (and is dropped there) like any relayed datagram. Not a
        // transport message: an unknown receiver index from the peer's path would make the node start a handshake
        // (the peer holds a session the node lost), and its retries would show up at the relay socket below.
        data[GeneveHeader.Length] = (byte)MessageLayout.TypeCookieReply;
        relay.SendTo(data, new IPEndPoint(IPAddress.Loopback, node.ListenPort));
        await WaitUntilAsync(() => node.GetStatus().Drops.GetValueOrDefault("wireguard.BadHandshakeSize") == 1);
        await AdvanceAsync(TimeSpan.FromSeconds(10));
        relay.Available.Should().Be(0, "a confirmed binding is not rebound after 10 s");
        await AdvanceAsync(TimeSpan.FromSeconds(109));
        relay.Available.Should().Be(0, "the refresh is due 2 min after the Answer");
        await AdvanceAsync(TimeSpan.FromSeconds(1));
        (await PumpAsync()).Should().Be(RelayPacketOutcome.Reply);
        (await PumpAsync()).Should().Be(RelayPacketOutcome.Consumed);
        (await InspectAfterTurnAsync()).Handshakes.Should().Be(3);

        // The relay stops answering: the next refresh's Bind goes out every second (same generation, still bound),
        // and after 10 unanswered Binds the path counts as lost and a new handshake starts.
        await AdvanceAsync(TimeSpan.FromMinutes(2));
        var binds = new List<byte[]> { await ReceiveAsync() };
        var refreshing = await InspectAfterTurnAsync();
        for (var i = 1; i < global::TsNet.Dataplane.DataplaneLoop.BindsPerHandshake; i++)
        {
            await AdvanceAsync(TimeSpan.FromSeconds(1));
            binds.Add(await ReceiveAsync());
        }

        binds.Should().OnlyContain(b => b.Length == RelayHandshakeClient.HandshakeDatagramLength && b[1] == 0x80, "each is a Geneve control (Bind) datagram");
        (await InspectAfterTurnAsync()).Should().Be((true, 3L, refreshing.Generation));
        node.GetStatus().Drops.Should().NotContainKey("relay.HandshakeFailed");
        relay.Available.Should().Be(0);

        await AdvanceAsync(TimeSpan.FromSeconds(1));
        (await ReceiveAsync()).Length.Should().Be(RelayHandshakeClient.HandshakeDatagramLength, "a new handshake begins at once");
        var lost = await InspectAfterTurnAsync();
        lost.Bound.Should().BeFalse();
        lost.Generation.Should().BeGreaterThan(refreshing.Generation);
        node.GetStatus().Drops["relay.HandshakeFailed"].Should().Be(1);

        async Task<RelayPacketOutcome> PumpAsync()
        {
            var buffer = new byte[2048];
            var result = await relay.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
            var from = UnderlayAddress.FromIPEndPoint((IPEndPoint)result.RemoteEndPoint);
            var reply = new byte[RelayServerCore.MaxReplyLength];
            var outcome = core.HandlePacket(buffer.AsSpan(0, result.ReceivedBytes), from, 1, reply, out var length, out var destination);
            if (outcome == RelayPacketOutcome.Reply)
            {
                relay.SendTo(reply.AsSpan(0, length), destination.ToIPEndPoint());
            }

            return outcome;
        }

        async Task<byte[]> ReceiveAsync()
        {
            var buffer = new byte[2048];
            var result = await relay.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
            return buffer.AsSpan(0, result.ReceivedBytes).ToArray();
        }

        // Two round trips through the loop: the turn that sees the new time has polled (and flushed its sends) by then.
        async Task<(bool Bound, long Handshakes, uint Generation)> InspectAfterTurnAsync()
        {
            await node.InspectRelayPathsAsync(cts.Token);
            return (await node.InspectRelayPathsAsync(cts.Token)).Single();
        }

        async Task AdvanceAsync(TimeSpan delta)
        {
            clock.Advance(delta);
            await InspectAfterTurnAsync();
        }

        async Task WaitUntilAsync(Func<bool> condition)
        {
            var deadline = DateTime.UtcNow + Deadline;
            while (!condition())
            {
                DateTime.UtcNow.Should().BeBefore(deadline);
                await Task.Delay(20, cts.Token);
            }
        }
    }
}
