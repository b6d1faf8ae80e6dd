using System.Collections.Concurrent;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Relay;

/// <summary>The relay server's endpoint table and handshake state machine, one (state, event) at a time, with explicit time.</summary>
public class RelayServerCoreTests
{
    [Fact]
    public void BothLegsBind_ThenDataIsForwardedVerbatimBothWays()
    {
        var h = new RelayCoreHarness();
        var endpoint = h.Allocate();
        endpoint.Vni.Should().Be(1);
        endpoint.LamportId.Should().Be(1);

        h.Bind(h.A, endpoint);
        h.Send(RelayCoreHarness.Data(endpoint, 1), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped, "only one leg is bound");
        h.Core.Drops(UdpRelayDropReason.NotBound).Should().Be(1);

        h.Bind(h.B, endpoint);
        var aToB = h.Send(RelayCoreHarness.Data(endpoint, 0xAB), h.A.Address);
        aToB.Outcome.Should().Be(RelayPacketOutcome.Forward);
        aToB.Destination.Should().Be(h.B.Address, "IPv4 to IPv6 relaying is allowed");
        var bToA = h.Send(RelayCoreHarness.Data(endpoint, 0xBA), h.B.Address);
        bToA.Outcome.Should().Be(RelayPacketOutcome.Forward);
        bToA.Destination.Should().Be(h.A.Address);

        h.Core.ForwardedPackets.Should().Be(2);
        h.Core.ForwardedBytes.Should().Be(2 * 72);
        h.Core.ChallengesSent.Should().Be(2);
        h.Core.LegsBound.Should().Be(2);
        lock (endpoint.Gate)
        {
            endpoint.Forwarded(0).Should().Be((1L, 72L));
            endpoint.Forwarded(1).Should().Be((1L, 72L));
        }
    }

    [Fact]
    public void Data_FromAnAddressThatIsNotBound_IsDropped()
    {
        var h = BoundHarness(out var endpoint);
        h.Send(RelayCoreHarness.Data(endpoint, 1), RelayCoreHarness.Address("192.0.2.10:1001")).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Send(RelayCoreHarness.Data(endpoint, 1), RelayCoreHarness.Address("198.51.100.1:1000")).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.UnknownSource).Should().Be(2);
        h.Core.ForwardedPackets.Should().Be(0);
    }

    [Fact]
    public void UnknownVni_IsDropped_ForDataAndControl()
    {
        var h = BoundHarness(out var endpoint);
        var data = RelayCoreHarness.Data(endpoint, 1);
        data[6] = 9; // VNI 9
        h.Send(data, h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        var bind = RelayCoreHarness.BindBytes(h.NewHandshake(h.A, endpoint));
        bind[6] = 9;
        h.Send(bind, h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.UnknownVni).Should().Be(2);
    }

    [Fact]
    public void Bind_FromAKeyThatIsNotAClient_IsDropped()
    {
        var h = new RelayCoreHarness();
        var endpoint = h.Allocate();
        var stranger = new RelayHandshakeClient(DiscoKey.Generate().Bytes, h.ServerKey.PublicKey, h.B.Key.PublicKey, endpoint.Vni, 1);
        h.Send(RelayCoreHarness.BindBytes(stranger), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.UnknownSender).Should().Be(1);
    }

    [Fact]
    public void Bind_ClaimingAClientKeyButSealedWithAnotherKey_FailsToDecrypt()
    {
        var h = new RelayCoreHarness();
        var endpoint = h.Allocate();
        var forged = RelayCoreHarness.BindBytes(new RelayHandshakeClient(DiscoKey.Generate().Bytes, h.ServerKey.PublicKey, h.B.Key.PublicKey, endpoint.Vni, 1));
        h.A.Key.PublicKey.Bytes.CopyTo(forged.AsSpan(8 + DiscoPacket.KeyOffset));
        h.Send(forged, h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.DecryptFailed).Should().Be(1);
    }

    [Fact]
    public void Bind_WithWrongRemoteKey_WrongInnerVni_OrGenerationZero_IsDropped()
    {
        var h = new RelayCoreHarness();
        var endpoint = h.Allocate();
        var wrongRemote = new RelayHandshakeClient(h.A.Key.Bytes, h.ServerKey.PublicKey, DiscoKey.Generate().PublicKey, endpoint.Vni, 1);
        h.Send(RelayCoreHarness.BindBytes(wrongRemote), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);

        // Inner VNI 2 inside a Geneve header for VNI 1 (header tampering).
        var wrongVni = new RelayHandshakeClient(h.A.Key.Bytes, h.ServerKey.PublicKey, h.B.Key.PublicKey, 2, 1);
        var bytes = RelayCoreHarness.BindBytes(wrongVni);
        bytes[6] = 1;
        h.Send(bytes, h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);

        h.Send(SealControl(h, h.A, endpoint, DiscoMessageType.BindUdpRelayEndpoint, generation: 0), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.InvalidBind).Should().Be(3);
        h.Core.ChallengesSent.Should().Be(0);
    }

    [Fact]
    public void RepeatedBind_IsAnsweredEveryTime_AndEitherChallengeBinds()
    {
        var h = new RelayCoreHarness();
        var endpoint = h.Allocate();
        var handshake = h.NewHandshake(h.A, endpoint);
        var first = h.Send(RelayCoreHarness.BindBytes(handshake), h.A.Address);
        var second = h.Send(RelayCoreHarness.BindBytes(handshake), h.A.Address);
        first.Outcome.Should().Be(RelayPacketOutcome.Reply);
        second.Outcome.Should().Be(RelayPacketOutcome.Reply);
        first.Reply.Should().NotEqual(second.Reply, "each Challenge has a fresh nonce");
        h.Core.ChallengesSent.Should().Be(2);

        var answer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
        handshake.HandleChallenge(first.Reply, h.A.Address, answer).Should().Be(160);
        h.Send(answer, h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Consumed);
        h.Send(answer, h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped, "the generation is finished once bound");
        h.Core.Drops(UdpRelayDropReason.StaleAnswer).Should().Be(1);
    }

    [Fact]
    public void Answer_WithoutBind_OrWithAWrongChallenge_OrFromAnotherAddress_IsDropped()
    {
        var h = new RelayCoreHarness();
        var endpoint = h.Allocate();

        h.Send(SealControl(h, h.A, endpoint, DiscoMessageType.BindUdpRelayEndpointAnswer, generation: 5), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.StaleAnswer).Should().Be(1);

        var handshake = h.NewHandshake(h.A, endpoint);
        var challenge = h.Send(RelayCoreHarness.BindBytes(handshake), h.A.Address);
        h.Send(SealControl(h, h.A, endpoint, DiscoMessageType.BindUdpRelayEndpointAnswer, handshake.Generation, challengeByte: 0x42), h.A.Address)
            .Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.ChallengeMismatch).Should().Be(1);

        var answer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
        handshake.HandleChallenge(challenge.Reply, h.A.Address, answer).Should().BeGreaterThan(0);
        h.Send(answer, RelayCoreHarness.Address("192.0.2.99:1000")).Outcome.Should().Be(RelayPacketOutcome.Dropped, "the MAC covers the source address");
        h.Core.Drops(UdpRelayDropReason.ChallengeMismatch).Should().Be(2);
        h.Send(answer, h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Consumed);
    }

    [Fact]
    public void Answer_OfAnOlderGeneration_IsDroppedOnceANewBindStarted()
    {
        var h = new RelayCoreHarness();
        var endpoint = h.Allocate();
        var old = h.NewHandshake(h.A, endpoint);
        var oldChallenge = h.Send(RelayCoreHarness.BindBytes(old), h.A.Address);
        var newer = h.NewHandshake(h.A, endpoint);
        h.Send(RelayCoreHarness.BindBytes(newer), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Reply);

        var staleAnswer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
        old.HandleChallenge(oldChallenge.Reply, h.A.Address, staleAnswer).Should().BeGreaterThan(0);
        h.Send(staleAnswer, h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.StaleAnswer).Should().Be(1);
    }

    [Fact]
    public void Rebind_WithANewGeneration_MovesTheLeg_AndOldBindingServesUntilTheAnswer()
    {
        var h = BoundHarness(out var endpoint);
        var moved = RelayCoreHarness.Address("203.0.113.5:4444");
        var handshake = h.NewHandshake(h.A, endpoint);
        var challenge = h.Send(RelayCoreHarness.BindBytes(handshake), moved);
        challenge.Destination.Should().Be(moved);

        h.Send(RelayCoreHarness.Data(endpoint, 1), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Forward, "a Bind alone does not undo the binding");

        var answer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
        handshake.HandleChallenge(challenge.Reply, moved, answer).Should().BeGreaterThan(0);
        h.Send(answer, moved).Outcome.Should().Be(RelayPacketOutcome.Consumed);

        h.Send(RelayCoreHarness.Data(endpoint, 2), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Send(RelayCoreHarness.Data(endpoint, 3), moved).Destination.Should().Be(h.B.Address);
        h.Send(RelayCoreHarness.Data(endpoint, 4), h.B.Address).Destination.Should().Be(moved);
    }

    [Fact]
    public void UnboundEndpoint_ExpiresAfterBindLifetime_AndCollectionFreesIt()
    {
        var h = new RelayCoreHarness();
        var endpoint = h.Allocate();
        h.Bind(h.A, endpoint);
        h.Advance(TimeSpan.FromSeconds(30));
        h.Core.CollectGarbage(h.Now).Should().Be(0, "30 s is not yet more than the bind lifetime");
        h.Advance(TimeSpan.FromSeconds(1));
        h.Send(RelayCoreHarness.BindBytes(h.NewHandshake(h.B, endpoint)), h.B.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.EndpointExpired).Should().Be(1);
        h.Core.CollectGarbage(h.Now).Should().Be(1);
        h.Core.EndpointCount.Should().Be(0);
        h.Core.TryGetEndpoint(endpoint.Vni, out _).Should().BeFalse();

        var again = h.Allocate();
        again.Should().NotBeSameAs(endpoint);
        again.LamportId.Should().Be(2);
    }

    [Fact]
    public void BoundEndpoint_LivesWhileBothSidesTalk_AndExpiresWhenOneIsSilentFor5Minutes()
    {
        var h = BoundHarness(out var endpoint);
        for (int i = 0; i < 5; i++)
        {
            h.Advance(TimeSpan.FromMinutes(4));
            h.Send(RelayCoreHarness.Data(endpoint, 1), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Forward);
            h.Send(RelayCoreHarness.Data(endpoint, 2), h.B.Address).Outcome.Should().Be(RelayPacketOutcome.Forward);
            h.Core.CollectGarbage(h.Now).Should().Be(0);
        }

        // Only A keeps talking: B's last packet ages past 5 min.
        h.Advance(TimeSpan.FromMinutes(4));
        h.Send(RelayCoreHarness.Data(endpoint, 1), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Forward);
        h.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        h.Send(RelayCoreHarness.Data(endpoint, 1), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.EndpointExpired).Should().Be(1);
        h.Core.CollectGarbage(h.Now).Should().Be(1);
    }

    [Fact]
    public void Vnis_AreSequential_WrapAround_AndAreReusedAfterCollection()
    {
        var h = new RelayCoreHarness(new RelayServerSettings { MaxVni = 4 });
        var keys = Enumerable.Range(0, 7).Select(_ => DiscoKey.Generate().PublicKey).ToArray();
        uint Allocate(int i)
        {
            h.Core.Allocate(keys[i], keys[i + 1], h.Now, out var endpoint).Should().Be(RelayAllocationStatus.Allocated);
            return endpoint!.Vni;
        }

        new[] { Allocate(0), Allocate(1), Allocate(2) }.Should().Equal(1u, 2u, 3u);
        h.Advance(TimeSpan.FromSeconds(20));
        Allocate(3).Should().Be(4);
        h.Core.Allocate(keys[4], keys[5], h.Now, out _).Should().Be(RelayAllocationStatus.VniExhausted);

        h.Advance(TimeSpan.FromSeconds(15));
        h.Core.CollectGarbage(h.Now).Should().Be(3, "the first three are 35 s old and unbound");
        Allocate(4).Should().Be(1, "selection wrapped from 4 to 1");
        Allocate(5).Should().Be(2);
    }

    [Fact]
    public void Allocate_StoresThePairSorted_AndReturnsTheExistingEndpointUnchanged()
    {
        var h = new RelayCoreHarness();
        var a = h.A.Key.PublicKey;
        var b = h.B.Key.PublicKey;
        h.Core.Allocate(a, b, h.Now, out var first).Should().Be(RelayAllocationStatus.Allocated);
        first!.Client0.Should().Be(a < b ? a : b);
        first.Client1.Should().Be(a < b ? b : a);

        h.Bind(h.A, first);
        h.Bind(h.B, first);
        h.Core.Allocate(b, a, h.Now, out var again).Should().Be(RelayAllocationStatus.Existing);
        again.Should().BeSameAs(first, "bound or not, the pair keeps its endpoint (same VNI and Lamport id)");
        h.Send(RelayCoreHarness.Data(first, 1), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Forward, "the binding is untouched");

        h.Core.Allocate(a, DiscoKey.Generate().PublicKey, h.Now, out var other).Should().Be(RelayAllocationStatus.Allocated);
        other!.LamportId.Should().Be(2);
        other.Vni.Should().Be(2);
    }

    [Fact]
    public void Allocate_RejectsTheServerKey_EqualKeys_LowOrderKeys_AndAClosedServer()
    {
        var h = new RelayCoreHarness();
        h.Core.Allocate(h.ServerKey.PublicKey, h.A.Key.PublicKey, h.Now, out _).Should().Be(RelayAllocationStatus.ServerKey);
        h.Core.Allocate(h.A.Key.PublicKey, h.ServerKey.PublicKey, h.Now, out _).Should().Be(RelayAllocationStatus.ServerKey);
        h.Core.Allocate(h.A.Key.PublicKey, h.A.Key.PublicKey, h.Now, out _).Should().Be(RelayAllocationStatus.InvalidKey);
        var lowOrder = new byte[32];
        lowOrder[0] = 1; // the identity point: X25519 gives all zeros
        h.Core.Allocate(h.A.Key.PublicKey, new DiscoKey(lowOrder), h.Now, out _).Should().Be(RelayAllocationStatus.InvalidKey);
        h.Core.EndpointCount.Should().Be(0);
        h.Core.Close();
        h.Core.Allocate(h.A.Key.PublicKey, h.B.Key.PublicKey, h.Now, out _).Should().Be(RelayAllocationStatus.Closed);
    }

    [Fact]
    public void ParallelAllocations_ForOnePair_GetOneEndpoint()
    {
        var h = new RelayCoreHarness();
        for (int round = 0; round < 20; round++)
        {
            var a = DiscoKey.Generate().PublicKey;
            var b = DiscoKey.Generate().PublicKey;
            var results = new ConcurrentBag<(RelayAllocationStatus, RelayServerEndpoint?)>();
            using var start = new Barrier(8);

            // Dedicated threads, released together, so the calls really overlap (the thread pool would stagger them).
            var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                var status = h.Core.Allocate(i % 2 == 0 ? a : b, i % 2 == 0 ? b : a, h.Now, out var endpoint);
                results.Add((status, endpoint));
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join(TimeSpan.FromSeconds(30)).Should().BeTrue());

            results.Should().HaveCount(8);
            results.Count(r => r.Item1 == RelayAllocationStatus.Allocated).Should().Be(1);
            results.Count(r => r.Item1 == RelayAllocationStatus.Existing).Should().Be(7);
            results.Select(r => r.Item2).Distinct().Should().ContainSingle();
        }

        h.Core.EndpointCount.Should().Be(20);
        h.Core.Allocate(DiscoKey.Generate().PublicKey, DiscoKey.Generate().PublicKey, h.Now, out var next).Should().Be(RelayAllocationStatus.Allocated);
        next!.LamportId.Should().Be(21, "racing calls consumed no Lamport ids");
    }

    [Fact]
    public void Stun_Malformed_NonDiscoControl_AndUnexpectedMessages_AreDroppedByReason()
    {
        var h = new RelayCoreHarness();
        var endpoint = h.Allocate();
        var stun = new byte[20];
        stun[1] = 0x01;
        stun[4] = 0x21; stun[5] = 0x12; stun[6] = 0xA4; stun[7] = 0x42;
        h.Send(stun, h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.Stun).Should().Be(1);

        h.Send(new byte[7], h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.Malformed).Should().Be(1);

        var bind = RelayCoreHarness.BindBytes(h.NewHandshake(h.A, endpoint));
        bind[3] = 0x12; // control bit with protocol WireGuard
        h.Send(bind, h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Send(bind.AsSpan(0, 8 + 61), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.NotDisco).Should().Be(2);

        h.Send(SealControl(h, h.A, endpoint, DiscoMessageType.BindUdpRelayEndpointChallenge, 1), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Send(SealControl(h, h.A, endpoint, DiscoMessageType.Ping, 1), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.UnexpectedMessage).Should().Be(2);

        h.Send(SealControl(h, h.A, endpoint, DiscoMessageType.BindUdpRelayEndpoint, 1, innerLength: 73), h.A.Address).Outcome.Should().Be(RelayPacketOutcome.Dropped);
        h.Core.Drops(UdpRelayDropReason.MalformedMessage).Should().Be(1);
    }

    [Fact]
    public void Challenge_StaysValidAcrossOneSecretRotation_ButNotTwo()
    {
        var settings = new RelayServerSettings { BindLifetime = TimeSpan.FromHours(1) };
        foreach (var (wait, accepted) in new[] { (TimeSpan.FromMinutes(3), true), (TimeSpan.FromMinutes(5), false) })
        {
            var h = new RelayCoreHarness(settings);
            var endpoint = h.Allocate();
            var handshake = h.NewHandshake(h.A, endpoint);
            var challenge = h.Send(RelayCoreHarness.BindBytes(handshake), h.A.Address);
            var answer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
            handshake.HandleChallenge(challenge.Reply, h.A.Address, answer).Should().BeGreaterThan(0);

            // Traffic in between makes the server rotate its secret (lazily, when a Bind or Answer needs it).
            h.Advance(wait / 2);
            h.Send(RelayCoreHarness.BindBytes(h.NewHandshake(h.B, endpoint)), h.B.Address).Outcome.Should().Be(RelayPacketOutcome.Reply);
            h.Advance(wait / 2);
            h.Send(answer, h.A.Address).Outcome.Should().Be(accepted ? RelayPacketOutcome.Consumed : RelayPacketOutcome.Dropped, $"after {wait}");
        }
    }

    private static RelayCoreHarness BoundHarness(out RelayServerEndpoint endpoint)
    {
        var h = new RelayCoreHarness();
        endpoint = h.Allocate();
        h.Bind(h.A, endpoint);
        h.Bind(h.B, endpoint);
        return h;
    }

    /// <summary>A control message from <paramref name="client"/> with arbitrary fields (what a buggy or hostile client might send).</summary>
    private static byte[] SealControl(RelayCoreHarness h, RelayCoreHarness.Client client, RelayServerEndpoint endpoint, DiscoMessageType type, uint generation, byte challengeByte = 0, int innerLength = 74)
    {
        var remote = client == h.A ? h.B : h.A;
        var challenge = new byte[32];
        Array.Fill(challenge, challengeByte);
        var common = new BindUdpRelayEndpointCommon
        {
            Vni = endpoint.Vni,
            Generation = generation,
            RemoteKey = Bytes32.From(remote.Key.PublicKey.Bytes),
            Challenge = Bytes32.From(challenge),
        };
        var inner = new byte[74];
        common.WriteMessage(type, inner);
        var shared = new byte[32];
        NaClBox.TryPrecompute(client.Key.Bytes, h.ServerKey.PublicKey.Bytes, shared).Should().BeTrue();
        var packet = new byte[8 + DiscoPacket.Overhead + innerLength];
        new GeneveHeader(0, true, GeneveHeader.ProtocolDisco, endpoint.Vni).Encode(packet);
        DiscoPacket.Seal(client.Key.PublicKey.Bytes, shared, inner.AsSpan(0, innerLength), packet.AsSpan(8));
        return packet;
    }
}
