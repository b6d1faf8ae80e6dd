using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Dataplane;

/// <summary>
/// Geneve framing at the node's socket edge: a node with a relay path binds to a real relay server, then its WireGuard
/// datagrams leave wrapped (data, protocol WireGuard, the VNI) and wrapped datagrams from the relay are unwrapped and
/// handed to WireGuard. The other leg is a raw socket running the sans-IO handshake client, so the bytes are visible.
/// </summary>
public sealed class RelayFramingTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RelayedPeer_OutboundIsGeneveWrapped_InboundIsUnwrappedForWireGuard()
    {
        using var cts = new CancellationTokenSource(Deadline);
        await using var relay = await UdpRelayServer.StartAsync(new UdpRelayServerOptions { BindAddresses = { IPAddress.Loopback } }, cts.Token);
        var peerDisco = DiscoKey.Generate();
        var peerKey = WireGuardKey.Generate();
        await using var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
        });
        var endpoint = relay.AllocateEndpoint(node.DiscoPublicKey, peerDisco.PublicKey);
        await node.StartAsync(cts.Token);
        node.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = peerKey.PublicKey,
            AllowedIps = { IPNetwork.Parse("100.64.0.2/32") },
            Relay = TailnetRelayPath.FromEndpoint(endpoint, peerDisco.PublicKey),
        });

        // The other leg: bind with the sans-IO client from a raw socket.
        using var leg = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        leg.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var relayAddress = endpoint.AddressPorts[0];
        var handshake = new RelayHandshakeClient(peerDisco.Bytes, endpoint.ServerDisco, node.DiscoPublicKey, endpoint.Vni, 1);
        var bind = new byte[RelayHandshakeClient.HandshakeDatagramLength];
        leg.SendTo(bind.AsSpan(0, handshake.WriteBind(bind)), relayAddress);
        var (challenge, from) = await ReceiveAsync(leg, cts.Token);
        var answer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
        var answerLength = handshake.HandleChallenge(challenge, UnderlayAddress.FromIPEndPoint(from), answer);
        answerLength.Should().BePositive();
        leg.SendTo(answer.AsSpan(0, answerLength), from);
        await WaitUntilAsync(() => relay.GetCounters().LegsBound >= 2, cts.Token);
        (await node.InspectRelayPathsAsync(cts.Token)).Should().ContainSingle().Which.Bound.Should().BeTrue();

        // Outbound: a ping to the peer makes WireGuard send a handshake initiation, which arrives wrapped.
        var ping = node.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(1), cts.Token).AsTask();
        var (relayed, relayedFrom) = await ReceiveAsync(leg, cts.Token);
        relayedFrom.Should().Be(relayAddress);
        relayed.Length.Should().Be(GeneveHeader.Length + MessageLayout.InitiationSize);
        var vni = endpoint.Vni;
        relayed.AsSpan(0, 8).ToArray().Should().Equal(0x00, 0x00, 0x7A, 0x12, (byte)(vni >> 16), (byte)(vni >> 8), (byte)vni, 0x00);
        relayed[8].Should().Be((byte)MessageLayout.TypeInitiation);
        await FluentActions.Awaiting(() => ping).Should().ThrowAsync<TimeoutException>("nobody answers the handshake");

        // Inbound: a wrapped transport message reaches WireGuard (which drops its unknown receiver index) ...
        var transport = new byte[GeneveHeader.Length + MessageLayout.TransportHeaderSize + 16];
        handshake.WrapWireGuard(TransportMessage(receiverIndex: 0x12345678), transport).Should().Be(transport.Length);
        leg.SendTo(transport, relayAddress);
        await WaitUntilAsync(() => node.GetStatus().Drops.GetValueOrDefault("wireguard.UnknownReceiverIndex") >= 1, cts.Token);

        // ... a relayed disco message between the peers is ignored (no path discovery yet) ...
        var disco = new byte[200];
        var pingMessage = new byte[14];
        new DiscoPing(new byte[12], null, 0).Write(pingMessage);
        leg.SendTo(disco.AsSpan(0, handshake.WritePeerDisco(pingMessage, disco)), relayAddress);
        await WaitUntilAsync(() => node.GetStatus().Drops.GetValueOrDefault("relay.Ignored") >= 1, cts.Token);

        // ... and Geneve from an address that is no configured relay is dropped, not given to WireGuard.
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        stranger.SendTo(transport, new IPEndPoint(IPAddress.Loopback, node.ListenPort));
        await WaitUntilAsync(() => node.GetStatus().Drops.GetValueOrDefault("relay.UnknownPath") >= 1, cts.Token);
        node.GetStatus().Drops.GetValueOrDefault("wireguard.UnknownReceiverIndex").Should().Be(1);
        relay.GetCounters().ForwardedPackets.Should().BeGreaterThanOrEqualTo(3);
    }

    private static byte[] TransportMessage(uint receiverIndex)
    {
        var message = new byte[MessageLayout.TransportHeaderSize + 16];
        message[0] = (byte)MessageLayout.TypeTransport;
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(4), receiverIndex);
        return message;
    }

    private static async Task<(byte[] Bytes, IPEndPoint From)> ReceiveAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[2048];
        var result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cancellationToken);
        return (buffer.AsSpan(0, result.ReceivedBytes).ToArray(), (IPEndPoint)result.RemoteEndPoint);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the condition should hold within the deadline");
            await Task.Delay(20, cancellationToken);
        }
    }
}
