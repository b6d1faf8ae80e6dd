using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>Every timer rule of wireguard.md §8–9 against a fake clock (no sleeps).</summary>
public sealed class WireGuardTimerTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    private static List<(long At, byte[] Bytes)> Watch(SimulatedNetwork net, SimulatedNetwork.Node from, uint type, int? length = null)
    {
        var seen = new List<(long, byte[])>();
        net.Observed += (f, _, bytes) =>
        {
            if (f == from.Address && bytes[0] == type && (length is null || bytes.Length == length))
            {
                seen.Add((net.Now, bytes));
            }
        };
        return seen;
    }

    private static (SimulatedNetwork Net, SimulatedNetwork.Node A, SimulatedNetwork.Node B, WireGuardPeer AtA, WireGuardPeer AtB) Established(WireGuardTimerSettings? timers = null)
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1, timers);
        var b = net.AddNode("b", 2, timers, seed: 2);
        var (atA, atB) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        net.Pump();
        atB.Current.Should().NotBeNull();
        return (net, a, b, atA, atB);
    }

    [Fact]
    public void RetransmitHandshake_EveryRekeyTimeoutPlusJitter_ThenGivesUpAndDropsStaged()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, _) = SimulatedNetwork.Connect(a, b);
        net.Filter = (_, _, _) => false; // B is unreachable
        var initiations = Watch(net, a, MessageLayout.TypeInitiation);
        var start = net.Now;

        a.SendIp(b.InnerAddress);
        a.SendIp(b.InnerAddress);
        atA.Staged.Count.Should().Be(2);
        net.Advance(TimeSpan.FromSeconds(200));

        initiations.Should().HaveCount(20, "the first initiation plus 19 retries before attempts exceed 18");
        for (var i = 1; i < initiations.Count; i++)
        {
            var gap = TimeSpan.FromTicks(initiations[i].At - initiations[i - 1].At);
            gap.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(5)).And.BeLessThan(TimeSpan.FromSeconds(5) + TimeSpan.FromMilliseconds(334));
        }

        initiations.Select(i => i.Bytes.AsSpan(8, 32).ToArray()).Distinct(new BytesComparer()).Should().HaveCount(20, "each retry is a fresh initiation with a new ephemeral key");
        atA.Staged.Should().BeEmpty();
        a.Endpoint.Counters[WireGuardDropReason.HandshakeGaveUp].Should().Be(2);
        TimeSpan.FromTicks(initiations[^1].At - start).Should().BeGreaterThan(TimeSpan.FromSeconds(95));

        // New data restarts the cycle.
        a.SendIp(b.InnerAddress);
        initiations.Should().HaveCount(21);
    }

    [Fact]
    public void InitiationThrottle_NoSecondInitiationWithinRekeyTimeout()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        SimulatedNetwork.Connect(a, b);
        net.Filter = (_, _, _) => false;
        var initiations = Watch(net, a, MessageLayout.TypeInitiation);
        for (var i = 0; i < 10; i++)
        {
            a.SendIp(b.InnerAddress);
            net.Advance(TimeSpan.FromMilliseconds(400), pump: false);
        }

        initiations.Should().HaveCount(1);
    }

    [Fact]
    public void PassiveKeepalive_SentAfterKeepaliveTimeout_WhenOnlyReceiving()
    {
        var (net, a, b, _, _) = Established();
        var keepalives = Watch(net, b, MessageLayout.TypeTransport, MessageLayout.KeepaliveSize);
        var received = net.Now;
        net.Advance(TimeSpan.FromSeconds(10) - Ms);
        keepalives.Should().BeEmpty();
        net.Advance(TimeSpan.FromMilliseconds(2));
        keepalives.Should().ContainSingle();
        TimeSpan.FromTicks(keepalives[0].At - received).Should().Be(TimeSpan.FromSeconds(10));
        net.Advance(TimeSpan.FromSeconds(60));
        keepalives.Should().ContainSingle("one keepalive answers one burst of data");
        a.Delivered.Should().BeEmpty();
    }

    [Fact]
    public void PassiveKeepalive_NotSentWhenWeSendDataAnyway()
    {
        var (net, a, b, _, _) = Established();
        var keepalives = Watch(net, b, MessageLayout.TypeTransport, MessageLayout.KeepaliveSize);
        net.Advance(TimeSpan.FromSeconds(5));
        b.SendIp(a.InnerAddress);
        net.Pump();
        net.Advance(TimeSpan.FromSeconds(6));
        keepalives.Should().BeEmpty("any authenticated packet sent cancels the keepalive timer");
    }

    [Fact]
    public void NewHandshake_WhenDataSentAndNothingHeardFor15SecondsPlusJitter()
    {
        var (net, a, b, atA, _) = Established();
        net.Advance(TimeSpan.FromSeconds(11)); // B's passive keepalive answers the handshake's data
        net.Filter = (from, _, _) => from != b.Address; // from now on B's answers are lost
        var initiations = Watch(net, a, MessageLayout.TypeInitiation);
        var sent = net.Now;
        a.SendIp(b.InnerAddress);
        net.Advance(TimeSpan.FromSeconds(15) - Ms);
        initiations.Should().BeEmpty();
        net.Advance(TimeSpan.FromMilliseconds(335));
        initiations.Should().ContainSingle();
        var after = TimeSpan.FromTicks(initiations[0].At - sent);
        after.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(15)).And.BeLessThan(TimeSpan.FromSeconds(15) + TimeSpan.FromMilliseconds(334));
        atA.Current.Should().NotBeNull("the old session stays usable while the new handshake runs");
    }

    [Fact]
    public void NewHandshake_NotStartedWhenAnAnswerArrives()
    {
        var (net, a, b, _, _) = Established();
        var initiations = Watch(net, a, MessageLayout.TypeInitiation);
        a.SendIp(b.InnerAddress);
        net.Pump();
        net.Advance(TimeSpan.FromSeconds(3));
        b.SendIp(a.InnerAddress);
        net.Pump();
        net.Advance(TimeSpan.FromSeconds(20));
        initiations.Should().BeEmpty();
    }

    [Fact]
    public void Rekey_InitiatorRekeysAfterRekeyAfterTime_OnSend_AndPreviousKeypairStillDecrypts()
    {
        var (net, a, b, atA, atB) = Established();
        var firstKeypair = atA.Current;
        var initiations = Watch(net, a, MessageLayout.TypeInitiation);

        net.Advance(TimeSpan.FromSeconds(119));
        a.SendIp(b.InnerAddress);
        net.Pump();
        initiations.Should().BeEmpty();

        net.Advance(TimeSpan.FromSeconds(2));
        // A packet sent under the old keys, held back until after the rekey.
        net.Filter = (from, _, bytes) => !(from == a.Address && bytes[0] == MessageLayout.TypeTransport && bytes.Length > 32 && initiations.Count == 0);
        a.SendIp(b.InnerAddress, marker: 42);
        var held = net.Sent.Last(s => s.From == a.Address && s.Bytes[0] == MessageLayout.TypeTransport).Bytes;
        initiations.Should().ContainSingle("the initiator rekeys after REKEY_AFTER_TIME when it sends");
        net.Filter = null;
        net.Pump();
        atA.Current.Should().NotBeSameAs(firstKeypair);
        atA.Previous.Should().BeSameAs(firstKeypair);

        var before = b.Delivered.Count;
        b.Receive(held, a.Address);
        b.Delivered.Should().HaveCount(before + 1);
        b.Delivered[^1][20].Should().Be(42);
        atB.HandshakesCompleted.Should().Be(2);
    }

    [Fact]
    public void Rekey_ResponderNeverRekeysOnTime()
    {
        var (net, a, b, _, atB) = Established();
        var initiations = Watch(net, b, MessageLayout.TypeInitiation);
        net.Advance(TimeSpan.FromSeconds(150));
        b.SendIp(a.InnerAddress);
        net.Pump();
        initiations.Should().BeEmpty("only the initiator of a session rekeys on its age");
        atB.Current!.IsInitiator.Should().BeFalse();
    }

    [Fact]
    public void LastMinuteHandshake_InitiatorReceivingOnOldKeysRekeys()
    {
        var (net, a, b, atA, _) = Established();
        var initiations = Watch(net, a, MessageLayout.TypeInitiation);
        net.Advance(TimeSpan.FromSeconds(165));
        // Lose A's initiation so we can count it, and let B send to A.
        net.Filter = (from, _, bytes) => !(from == a.Address && bytes[0] == MessageLayout.TypeInitiation);
        b.SendIp(a.InnerAddress);
        net.Pump();
        initiations.Should().BeEmpty("165 s is the threshold, not yet passed");
        net.Advance(TimeSpan.FromSeconds(1));
        b.SendIp(a.InnerAddress);
        net.Pump();
        initiations.Should().ContainSingle("REJECT_AFTER_TIME − KEEPALIVE_TIMEOUT − REKEY_TIMEOUT passed");
        atA.Timers.SentLastMinuteHandshake.Should().BeTrue();
        b.SendIp(a.InnerAddress);
        net.Pump();
        initiations.Should().ContainSingle("only once per session");
    }

    [Fact]
    public void RejectAfterTime_KeypairTooOldToSendOrReceive()
    {
        var (net, a, b, atA, atB) = Established();
        var old = net.Sent.Last(s => s.From == a.Address && s.Bytes[0] == MessageLayout.TypeTransport).Bytes;
        // Block new handshakes so the old keypair stays current.
        net.Filter = (_, _, bytes) => bytes[0] == MessageLayout.TypeTransport;
        net.Advance(TimeSpan.FromSeconds(181));
        var before = net.Sent.Count(s => s.From == b.Address && s.Bytes[0] == MessageLayout.TypeTransport);
        b.SendIp(a.InnerAddress);
        net.Sent.Count(s => s.From == b.Address && s.Bytes[0] == MessageLayout.TypeTransport).Should().Be(before, "the keypair is past REJECT_AFTER_TIME");
        atB.Staged.Should().HaveCount(1);
        var counterBumped = (byte[])old.Clone();
        b.Receive(counterBumped, a.Address);
        b.Endpoint.Counters[WireGuardDropReason.KeypairExpired].Should().BeGreaterThan(0);
        atA.Should().NotBeNull();
    }

    [Fact]
    public void RekeyAndRejectAfterMessages_AreHonoured()
    {
        var timers = WireGuardTimerSettings.Default with { RekeyAfterMessages = 3, RejectAfterMessages = 6 };
        var (net, a, b, atA, _) = Established(timers);
        var initiations = Watch(net, a, MessageLayout.TypeInitiation);
        net.Filter = (from, _, bytes) => !(from == a.Address && bytes[0] == MessageLayout.TypeInitiation);
        net.Advance(TimeSpan.FromSeconds(6)); // past the initiation throttle of the first handshake
        // Established() already used counter 0.
        a.SendIp(b.InnerAddress);
        a.SendIp(b.InnerAddress);
        initiations.Should().BeEmpty("3 messages sent is not past REKEY_AFTER_MESSAGES");
        a.SendIp(b.InnerAddress);
        initiations.Should().ContainSingle("4 messages sent > REKEY_AFTER_MESSAGES");
        a.SendIp(b.InnerAddress);
        a.SendIp(b.InnerAddress);
        atA.Current!.SendCounter.Should().Be(6);
        a.SendIp(b.InnerAddress);
        atA.Staged.Should().HaveCount(1, "counter space up to REJECT_AFTER_MESSAGES is exhausted");
    }

    [Fact]
    public void ZeroKeyMaterial_After3xRejectAfterTime()
    {
        var (net, _, _, atA, atB) = Established();
        net.Advance(TimeSpan.FromSeconds(539));
        atA.Current.Should().NotBeNull();
        net.Advance(TimeSpan.FromSeconds(2));
        atA.Current.Should().BeNull();
        atA.Previous.Should().BeNull();
        atB.Current.Should().BeNull();
        atA.Handshake.State.Should().Be(HandshakeState.Zeroed);
    }

    [Fact]
    public void PersistentKeepalive_SentEveryInterval_AndBringsSessionUp()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2);
        var (atA, atB) = SimulatedNetwork.Connect(a, b);
        var keepalives = Watch(net, a, MessageLayout.TypeTransport, MessageLayout.KeepaliveSize);
        a.Endpoint.SetPersistentKeepalive(atA, TimeSpan.FromSeconds(25), net.Now, a);
        net.Pump();
        atB.Current.Should().NotBeNull("setting a persistent keepalive sends one at once, which starts a session");
        var count = keepalives.Count;
        net.Advance(TimeSpan.FromSeconds(100));
        (keepalives.Count - count).Should().Be(4);
        for (var i = count + 1; i < keepalives.Count; i++)
        {
            TimeSpan.FromTicks(keepalives[i].At - keepalives[i - 1].At).Should().Be(TimeSpan.FromSeconds(25));
        }
    }

    [Fact]
    public void UnderLoad_RepliesWithCookie_AndInitiatorRetriesWithMac2()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2, underLoadThreshold: 0);
        var (atA, atB) = SimulatedNetwork.Connect(a, b);
        var initiations = Watch(net, a, MessageLayout.TypeInitiation);
        a.SendIp(b.InnerAddress);
        net.Pump();
        b.Endpoint.Counters.CookieRepliesSent.Should().Be(1);
        b.Endpoint.Counters[WireGuardDropReason.UnderLoadCookieSent].Should().Be(1);
        atA.Current.Should().BeNull();
        initiations[0].Bytes.AsSpan(132, 16).ToArray().Should().OnlyContain(x => x == 0, "no cookie yet: mac2 is zero");

        net.Advance(TimeSpan.FromSeconds(6));
        initiations.Should().HaveCount(2);
        initiations[1].Bytes.AsSpan(132, 16).ToArray().Should().Contain(x => x != 0, "the retry carries mac2");
        atA.Current.Should().NotBeNull();
        b.Delivered.Should().ContainSingle();
        atB.Current.Should().NotBeNull();
        b.Endpoint.Counters.CookieRepliesSent.Should().Be(1);
    }

    [Fact]
    public void UnderLoad_PerSourceRateLimit()
    {
        var net = new SimulatedNetwork();
        var a = net.AddNode("a", 1);
        var b = net.AddNode("b", 2, underLoadThreshold: 0);
        var (atA, _) = SimulatedNetwork.Connect(a, b);
        a.SendIp(b.InnerAddress);
        net.Pump();
        net.Advance(TimeSpan.FromSeconds(6)); // cookie round done, session up
        net.DropInFlight();
        net.Filter = (_, _, _) => false;
        var initiations = new List<byte[]>();
        for (var i = 0; i < 10; i++)
        {
            atA.Handshake.LastSentHandshake = Timestamps.Never;
            a.Endpoint.InitiateHandshake(atA, net.Now, a);
            initiations.Add(net.Sent[^1].Bytes);
        }

        net.Filter = null;
        foreach (var initiation in initiations)
        {
            net.Now += TimeSpan.FromMilliseconds(25).Ticks;
            b.Receive(initiation, a.Address);
        }

        b.Endpoint.Counters[WireGuardDropReason.RateLimited].Should().BeGreaterThan(0, "20 per second with a burst of 5 per source");
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => BitConverter.ToInt32(obj);
    }
}
