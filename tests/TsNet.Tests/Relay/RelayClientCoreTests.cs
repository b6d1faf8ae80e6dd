using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Relay;

/// <summary>
/// The relay client's bind schedule without sockets or a node: explicit time, a <see cref="RelayServerCore"/> as the
/// relay, every datagram visible. A = this node, B = the remote peer of the relay endpoint.
/// </summary>
public sealed class RelayClientCoreTests
{
    private static readonly long Second = TimeSpan.TicksPerSecond;
    private static readonly UnderlayAddress RelayAddress = RelayCoreHarness.Address("192.0.2.1:3478");
    private static readonly byte[] PeerKey = Enumerable.Repeat((byte)7, 32).ToArray();

    private readonly RelayCoreHarness _relay = new();
    private readonly Output _output = new();
    private readonly RelayClientCore _client;
    private readonly RelayServerEndpoint _endpoint;

    public RelayClientCoreTests()
    {
        _client = new RelayClientCore(_relay.A.Key.Bytes.ToArray(), Second);
        _endpoint = _relay.Allocate();
    }

    private long Now => _relay.Now;

    private void Configure() =>
        _client.ConfigurePath(PeerKey, RelayAddress, _relay.ServerKey.PublicKey, _endpoint.Vni, _relay.B.Key.PublicKey, Now);

    /// <summary>What the dataplane loop does each turn: poll when due.</summary>
    private void Turn()
    {
        if (_client.NextDeadline <= Now)
        {
            _client.Poll(Now, _output);
        }
    }

    /// <summary>Delivers every datagram the client sent to the relay, and the relay's replies back; returns how many went out.</summary>
    private int Pump(bool relayAnswers = true)
    {
        var delivered = 0;
        while (_output.Sent.Count > 0)
        {
            var (to, bytes) = _output.Sent.Dequeue();
            to.Should().Be(RelayAddress);
            delivered++;
            if (!relayAnswers)
            {
                continue;
            }

            var result = _relay.Send(bytes, _relay.A.Address);
            if (result.Outcome == RelayPacketOutcome.Reply)
            {
                // The relay's Challenge arrives from the relay's address.
                _client.Receive(result.Reply, RelayAddress, Now, _output, out _).Should().Be(RelayClientReceiveResult.Consumed);
            }
        }

        return delivered;
    }

    private RelayClientPath Path => _client.Paths.Should().ContainSingle().Subject;

    [Fact]
    public void FirstBind_IsDueAtOnce_AndAnAnsweredChallengeBindsThePath()
    {
        Configure();
        _client.NextDeadline.Should().Be(Now);
        Turn();
        Pump().Should().Be(2, "a Bind, then the Answer to the relay's Challenge");
        _relay.Core.LegsBound.Should().Be(1);
        Path.Bound.Should().BeTrue();
        Path.HandshakesCompleted.Should().Be(1);
        _client.TryGetRelay(Path.Endpoint, out var server).Should().BeTrue();
        server.Should().Be(RelayAddress);
    }

    [Fact]
    public void UnconfirmedAnswer_RebindsAfterTenSeconds_ConfirmedOne_RefreshesAfterTwoMinutes()
    {
        Configure();
        Turn();
        Pump();
        // The peer binds its leg too, so the relay keeps the endpoint past its 30 s bind lifetime.
        _relay.Bind(_relay.B, _endpoint);
        var first = Path.Client!.Generation;
        Path.NextActionAt.Should().Be(Now + RelayClientCore.ConfirmTimeout);

        _relay.Advance(TimeSpan.FromSeconds(9));
        Turn();
        _output.Sent.Should().BeEmpty("nothing is due before 10 s");
        _relay.Advance(TimeSpan.FromSeconds(1));
        Turn();
        Pump().Should().Be(2);
        Path.Client!.Generation.Should().BeGreaterThan(first);
        Path.HandshakesCompleted.Should().Be(2);
        var answeredAt = Now;

        // Relayed WireGuard data from the peer confirms the binding.
        var data = RelayCoreHarness.Data(_endpoint, 0x04);
        _client.Receive(data, RelayAddress, Now, _output, out var source).Should().Be(RelayClientReceiveResult.WireGuard);
        source.Should().Be(RelayAddress.WithVni(_endpoint.Vni));
        Path.Confirmed.Should().BeTrue();

        _relay.Advance(TimeSpan.FromSeconds(10));
        Turn();
        _output.Sent.Should().BeEmpty("a confirmed binding is not rebound after 10 s");
        _client.NextDeadline.Should().Be(answeredAt + RelayClientCore.RefreshInterval);
        _relay.Advance(TimeSpan.FromSeconds(109));
        Turn();
        _output.Sent.Should().BeEmpty("the refresh is due 2 min after the Answer");
        _relay.Advance(TimeSpan.FromSeconds(1));
        Turn();
        Pump().Should().Be(2);
        Path.HandshakesCompleted.Should().Be(3);
    }

    [Fact]
    public void RelayThatStopsAnswering_LosesThePathAfterTenBinds_AndANewHandshakeStarts()
    {
        Configure();
        Turn();
        Pump();
        _client.Receive(RelayCoreHarness.Data(_endpoint, 1), RelayAddress, Now, _output, out _);
        _relay.Advance(TimeSpan.FromMinutes(2));
        Turn();
        var generation = Path.Client!.Generation;
        var binds = Pump(relayAnswers: false);
        for (var i = 1; i < RelayClientCore.BindsPerHandshake; i++)
        {
            _relay.Advance(TimeSpan.FromSeconds(1));
            Turn();
            binds += Pump(relayAnswers: false);
        }

        binds.Should().Be(RelayClientCore.BindsPerHandshake, "one Bind per second, same handshake");
        Path.Client!.Generation.Should().Be(generation);
        Path.Bound.Should().BeTrue("still bound until the handshake gives up");
        _output.Lost.Should().BeEmpty();

        _relay.Advance(TimeSpan.FromSeconds(1));
        Turn();
        Pump(relayAnswers: false).Should().Be(1, "a new handshake begins at once");
        Path.Bound.Should().BeFalse();
        Path.Client!.Generation.Should().BeGreaterThan(generation);
        _client.HandshakeFailures.Should().Be(1);
        _output.Lost.Should().ContainSingle().Which.Should().BeSameAs(Path);
        _client.TryGetRelay(Path.Endpoint, out _).Should().BeFalse("traffic is dropped while unbound");
        _client.NotBoundDrops.Should().Be(1);
    }

    [Fact]
    public void ReceivedTraffic_DirectPassesThrough_UnknownPathAndPeerDiscoAreCounted()
    {
        Configure();
        Turn();
        Pump();
        var wireGuard = new byte[48];
        wireGuard[0] = (byte)MessageLayout.TypeTransport;
        _client.Receive(wireGuard, RelayAddress, Now, _output, out var source).Should().Be(RelayClientReceiveResult.NotRelayed);
        source.Should().Be(RelayAddress);

        var stranger = RelayCoreHarness.Address("192.0.2.99:3478");
        _client.Receive(RelayCoreHarness.Data(_endpoint, 1), stranger, Now, _output, out _).Should().Be(RelayClientReceiveResult.Consumed);
        _client.UnknownPathDrops.Should().Be(1);

        var disco = RelayCoreHarness.Data(_endpoint, 1);
        new GeneveHeader(0, false, GeneveHeader.ProtocolDisco, _endpoint.Vni).Encode(disco);
        _client.Receive(disco, RelayAddress, Now, _output, out _).Should().Be(RelayClientReceiveResult.Consumed);
        _client.Ignored.Should().Be(1);
    }

    [Fact]
    public void UnchangedPath_KeepsItsBinding_RemovedOrChangedPath_StartsOver()
    {
        Configure();
        Turn();
        Pump();
        var bound = Path;
        Configure();
        Path.Should().BeSameAs(bound);
        Path.Bound.Should().BeTrue();

        _client.ConfigurePath(PeerKey, RelayCoreHarness.Address("192.0.2.2:3478"), _relay.ServerKey.PublicKey, _endpoint.Vni, _relay.B.Key.PublicKey, Now);
        Path.Should().NotBeSameAs(bound);
        Path.Bound.Should().BeFalse();
        _client.RemovePath(PeerKey).Should().BeTrue();
        _client.Paths.Should().BeEmpty();
        _client.RemovePath(PeerKey).Should().BeFalse();
    }

    private sealed class Output : IRelayClientOutput
    {
        public Queue<(UnderlayAddress To, byte[] Bytes)> Sent { get; } = new();

        public List<RelayClientPath> Lost { get; } = [];

        public List<string> Unusable { get; } = [];

        public void SendToRelay(in UnderlayAddress server, ReadOnlySpan<byte> datagram) => Sent.Enqueue((server, datagram.ToArray()));

        public void PathLost(RelayClientPath path) => Lost.Add(path);

        public void PathUnusable(RelayClientPath path, string reason) => Unusable.Add(reason);
    }
}
