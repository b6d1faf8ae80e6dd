using System.Net;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Relay;

/// <summary>A <see cref="RelayServerCore"/> driven by hand: explicit time (TimeSpan ticks), clients as <see cref="RelayHandshakeClient"/>s.</summary>
internal sealed class RelayCoreHarness
{
    private uint _generation;

    public RelayCoreHarness(RelayServerSettings? settings = null)
    {
        ServerKey = DiscoKey.Generate();
        Core = new RelayServerCore(ServerKey.Bytes, settings ?? new RelayServerSettings());
        A = new Client(DiscoKey.Generate(), Address("192.0.2.10:1000"));
        B = new Client(DiscoKey.Generate(), Address("[2001:db8::20]:2000"));
    }

    public RelayServerCore Core { get; }

    public DiscoKey ServerKey { get; }

    public Client A { get; }

    public Client B { get; }

    public long Now { get; private set; }

    public void Advance(TimeSpan delta) => Now += delta.Ticks;

    public static UnderlayAddress Address(string text) => UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse(text));

    public RelayServerEndpoint Allocate()
    {
        Core.Allocate(A.Key.PublicKey, B.Key.PublicKey, Now, out var endpoint).Should().BeOneOf(RelayAllocationStatus.Allocated, RelayAllocationStatus.Existing);
        return endpoint!;
    }

    public RelayHandshakeClient NewHandshake(Client client, RelayServerEndpoint endpoint)
    {
        var remote = client == A ? B : A;
        var handshake = new RelayHandshakeClient(client.Key.Bytes, ServerKey.PublicKey, remote.Key.PublicKey, endpoint.Vni, RelayHandshakeClient.NextGeneration(ref _generation));
        client.Handshake = handshake;
        return handshake;
    }

    public Result Send(ReadOnlySpan<byte> datagram, UnderlayAddress from)
    {
        var reply = new byte[RelayServerCore.MaxReplyLength];
        var outcome = Core.HandlePacket(datagram, from, Now, reply, out var length, out var destination);
        return new Result(outcome, reply.AsSpan(0, length).ToArray(), destination);
    }

    /// <summary>Bind from the client's address, answer the Challenge from the same address; asserts each step.</summary>
    public void Bind(Client client, RelayServerEndpoint endpoint, UnderlayAddress? from = null)
    {
        var address = from ?? client.Address;
        var handshake = NewHandshake(client, endpoint);
        var challenge = Send(BindBytes(handshake), address);
        challenge.Outcome.Should().Be(RelayPacketOutcome.Reply);
        challenge.Destination.Should().Be(address);
        var answer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
        handshake.HandleChallenge(challenge.Reply, address, answer).Should().BeGreaterThan(0);
        Send(answer, address).Outcome.Should().Be(RelayPacketOutcome.Consumed);
    }

    public static byte[] BindBytes(RelayHandshakeClient handshake)
    {
        var bytes = new byte[RelayHandshakeClient.HandshakeDatagramLength];
        handshake.WriteBind(bytes);
        return bytes;
    }

    public static byte[] Data(RelayServerEndpoint endpoint, byte marker, int length = 64)
    {
        var payload = new byte[length];
        Array.Fill(payload, marker);
        var datagram = new byte[8 + length];
        new GeneveHeader(0, false, GeneveHeader.ProtocolWireGuard, endpoint.Vni).Encode(datagram);
        payload.CopyTo(datagram, 8);
        return datagram;
    }

    public sealed class Client(DiscoKey key, UnderlayAddress address)
    {
        public DiscoKey Key { get; } = key;

        public UnderlayAddress Address { get; } = address;

        public RelayHandshakeClient? Handshake { get; set; }
    }

    public sealed record Result(RelayPacketOutcome Outcome, byte[] Reply, UnderlayAddress Destination);
}
