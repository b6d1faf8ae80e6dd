using System.Buffers.Binary;
using TsNet.Paths;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Paths;

/// <summary>
/// <see cref="NetcheckCore"/> with a manual clock and fake STUN servers answering in the test
/// (derp.md §6.4, disco-direct.md §5).
/// </summary>
public sealed partial class NetcheckCoreTests
{
    private static readonly UnderlayAddress Stun1 = DiscoTestNetwork.Address("192.0.2.1:3478");
    private static readonly UnderlayAddress Stun2 = DiscoTestNetwork.Address("192.0.2.2:3478");
    private static readonly UnderlayAddress Stun3 = DiscoTestNetwork.Address("[2001:db8::3]:3478");
    private static readonly UnderlayAddress Public4 = DiscoTestNetwork.Address("198.51.100.7:41641");
    private static readonly UnderlayAddress Public6 = DiscoTestNetwork.Address("[2001:db8:1::7]:41641");

    private readonly Random _random = new(5);
    private readonly Requests _output = new();
    private readonly NetcheckCore _core;
    private long _now = TimeSpan.FromSeconds(500).Ticks;

    public NetcheckCoreTests() => _core = new NetcheckCore(random: b => _random.NextBytes(b));

    private static StunTarget Target(int region, UnderlayAddress address, double multiplier = 0, bool canBeHome = true) =>
        new(region, address, multiplier, canBeHome);

    private void At(double milliseconds) => _now += (long)(milliseconds * TimeSpan.TicksPerMillisecond);

    /// <summary>Polls once when due.</summary>
    private void Turn()
    {
        if (_core.NextDeadline <= _now)
        {
            _output.Now = _now;
            _core.Poll(_now, _output);
        }
    }

    /// <summary>Answers the last request sent to <paramref name="server"/> with <paramref name="mapped"/>.</summary>
    private bool Answer(UnderlayAddress server, UnderlayAddress mapped)
    {
        var request = _output.Sent.Last(s => s.To == server).Datagram;
        return _core.ReceiveStun(Response(request.AsSpan(8, 12), mapped), server, _now);
    }

    private static byte[] Response(ReadOnlySpan<byte> txId, UnderlayAddress mapped)
    {
        int addressLength = mapped.IsIPv6 ? 16 : 4;
        var packet = new byte[20 + 4 + 4 + addressLength];
        BinaryPrimitives.WriteUInt16BigEndian(packet, 0x0101);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)(8 + addressLength));
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), StunMessage.MagicCookie);
        txId.CopyTo(packet.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), 0x0020);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), (ushort)(4 + addressLength));
        packet[25] = (byte)(mapped.IsIPv6 ? 2 : 1);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(26), (ushort)(mapped.Port ^ 0x2112));
        mapped.WriteAddress(packet.AsSpan(28));
        for (int i = 0; i < addressLength; i++)
        {
            packet[28 + i] ^= packet[4 + i];
        }

        return packet;
    }

    [Fact]
    public void FirstReport_ProbesEveryTarget_MeasuresLatency_AndPicksTheLowestScaledLatency()
    {
        _core.SetTargets([Target(1, Stun1), Target(2, Stun2), Target(3, Stun3, multiplier: 5)], _now);
        _core.NextDeadline.Should().Be(_now);
        Turn();

        _output.Sent.Select(s => s.To).Should().Equal(Stun1, Stun2, Stun3);
        _output.Sent.Select(s => Convert.ToHexString(s.Datagram.AsSpan(8, 12))).Should().OnlyHaveUniqueItems();
        foreach (var (_, request, _) in _output.Sent)
        {
            request.Should().HaveCount(40);
            StunMessage.IsBindingMessage(request).Should().BeTrue();
            uint fingerprint = Crc32Ieee.Compute(request.AsSpan(0, 32)) ^ 0x5354554E;
            BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(36)).Should().Be(fingerprint);
        }

        At(5);
        Answer(Stun3, Public6).Should().BeTrue();
        At(15);
        Answer(Stun2, Public4).Should().BeTrue();
        _core.HomeRegion.Should().Be(0, "the report is still running");
        At(10);
        Answer(Stun1, Public4).Should().BeTrue();

        _core.RegionLatencies.Should().BeEquivalentTo(new Dictionary<int, TimeSpan>
        {
            [1] = TimeSpan.FromMilliseconds(30),
            [2] = TimeSpan.FromMilliseconds(20),
            [3] = TimeSpan.FromMilliseconds(5),
        });
        _core.HomeRegion.Should().Be(2, "region 3's 5 ms × 5 scores 25 ms");
        _core.PublicEndpoints.Select(UnderlayAddress.FromIPEndPoint).Should().BeEquivalentTo([Public6, Public4], "deduplicated");
        _core.PublicEndpointsAt.Should().Be(_now);
        _core.Version.Should().Be(1);
        _core.ReportCount.Should().Be(1);
    }

    [Fact]
    public void NextReport_ComesAfterTwentyToTwentySixSeconds()
    {
        _core.SetTargets([Target(1, Stun1)], _now);
        Turn();
        Answer(Stun1, Public4);
        long finished = _now;

        TimeSpan.FromTicks(_core.NextDeadline - finished).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(20)).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(26));
        _now = _core.NextDeadline - 1;
        Turn();
        _output.Sent.Should().HaveCount(1);
        _now++;
        Turn();
        _output.Sent.Should().HaveCount(2);

        Answer(Stun1, Public4);
        _core.Version.Should().Be(1, "same home, same endpoints");
        _core.PublicEndpointsAt.Should().Be(_now);
    }

    [Fact]
    public void UnansweredProbe_IsRetransmittedAfter100To200Ms_AndTheAnswerToTheRetransmitCounts()
    {
        _core.SetTargets([Target(1, Stun1)], _now);
        Turn();
        long first = _now;
        TimeSpan.FromTicks(_core.NextDeadline - first).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(100)).And.BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(200));

        _now = _core.NextDeadline;
        Turn();
        _output.Sent.Should().HaveCount(2);
        _output.Sent[1].Datagram.AsSpan(8, 12).ToArray().Should().NotEqual(_output.Sent[0].Datagram.AsSpan(8, 12).ToArray(), "each send has its own transaction id");

        At(12);
        Answer(Stun1, Public4).Should().BeTrue();
        _core.RegionLatencies[1].Should().Be(TimeSpan.FromMilliseconds(12));
    }

    [Fact]
    public void SilentTarget_SentAtMostThreeTimes_TimesOutAfterThreeSeconds_AndAFallbackHomeIsPicked()
    {
        _core.SetTargets([Target(5, Stun1, canBeHome: false), Target(7, Stun2), Target(3, Stun3)], _now);
        long start = _now;
        for (int i = 0; i < 100 && _core.ReportCount == 0; i++)
        {
            _now = Math.Max(_now, _core.NextDeadline);
            Turn();
        }

        _core.ReportCount.Should().Be(1);
        TimeSpan.FromTicks(_now - start).Should().Be(TimeSpan.FromSeconds(3));
        _output.Sent.Count(s => s.To == Stun1).Should().Be(3);
        _core.RegionLatencies.Should().BeEmpty();
        _core.PublicEndpoints.Should().BeEmpty();
        _core.PublicEndpointsAt.Should().Be(Timestamps.Never);
        _core.HomeRegion.Should().Be(3, "nothing measured: the lowest region that may be home");
    }

    [Fact]
    public void Home_HysteresisKeepsTheOldRegion_UntilTheNewIsTenMsAndAThirdBetter()
    {
        _core.SetTargets([Target(1, Stun1), Target(2, Stun2)], _now);
        Report((1, 30), (2, 35));
        _core.HomeRegion.Should().Be(1);

        Report((1, 30), (2, 25));
        _core.HomeRegion.Should().Be(1, "5 ms better is not enough");

        Report((1, 30), (2, 15));
        _core.HomeRegion.Should().Be(2, "15 ms better and under 2/3 of 30 ms");
    }

    [Fact]
    public void Home_NotSwitched_WhenTheNewIsMoreThanTwoThirdsOfTheOld()
    {
        _core.SetTargets([Target(1, Stun1), Target(2, Stun2)], _now);
        Report((1, 60), (2, 70));
        Report((1, 60), (2, 45));

        _core.HomeRegion.Should().Be(1, "45 ms is 15 ms better but more than 2/3 of 60 ms");
    }

    [Fact]
    public void Home_SwitchesAtOnce_WhenTheOldStopsAnswering()
    {
        _core.SetTargets([Target(1, Stun1), Target(2, Stun2)], _now);
        Report((1, 30), (2, 35));
        Report((2, 35));

        _core.HomeRegion.Should().Be(2);
        _core.Version.Should().Be(2);
    }

    [Fact]
    public void Home_KeptWhenNothingAnswers()
    {
        _core.SetTargets([Target(1, Stun1), Target(2, Stun2)], _now);
        Report((2, 35));
        Report();

        _core.HomeRegion.Should().Be(2);
    }

    [Fact]
    public void Multiplier_AppliesToTheHomeChoice()
    {
        _core.SetTargets([Target(1, Stun1, multiplier: 0.5), Target(2, Stun2)], _now);
        Report((1, 50), (2, 30));

        _core.HomeRegion.Should().Be(1, "50 ms × 0.5 scores 25 ms");
    }

    [Fact]
    public void UnrelatedPackets_AreNotOurs()
    {
        _core.SetTargets([Target(1, Stun1)], _now);
        Turn();

        _core.ReceiveStun(Response(new byte[12], Public4), Stun1, _now).Should().BeFalse("unknown transaction id");
        _core.ReceiveStun(new byte[40], Stun1, _now).Should().BeFalse("not STUN");
        _core.ReceiveStun(_output.Sent[0].Datagram, Stun1, _now).Should().BeFalse("a request, not a response");
        _core.ReportCount.Should().Be(0);
    }

    [Fact]
    public void SameTargetsAgain_DoNotRestartTheReport()
    {
        StunTarget[] targets = [Target(1, Stun1)];
        _core.SetTargets(targets, _now);
        Turn();
        _core.SetTargets([Target(1, Stun1)], _now);
        Turn();

        _output.Sent.Should().HaveCount(1);
        Answer(Stun1, Public4).Should().BeTrue();
    }

    /// <summary>Runs one whole report: the listed regions answer after their latency, the others never.</summary>
    private void Report(params (int Region, double Ms)[] answers)
    {
        int reports = _core.ReportCount;
        _now = Math.Max(_now, _core.NextDeadline);
        Turn();
        long start = _now;
        var servers = new Dictionary<int, UnderlayAddress> { [1] = Stun1, [2] = Stun2 };
        foreach (var (region, ms) in answers.OrderBy(a => a.Ms))
        {
            _now = start + (long)(ms * TimeSpan.TicksPerMillisecond);
            Turn();
            var server = servers[region];
            var request = _output.Sent.First(s => s.To == server && s.At == start).Datagram;
            _core.ReceiveStun(Response(request.AsSpan(8, 12), Public4), server, _now).Should().BeTrue();
        }

        for (int i = 0; i < 100 && _core.ReportCount == reports; i++)
        {
            _now = Math.Max(_now, _core.NextDeadline);
            Turn();
        }

        _core.ReportCount.Should().Be(reports + 1);
    }

    private sealed class Requests : IPathOutput
    {
        public long Now { get; set; }

        public List<(UnderlayAddress To, byte[] Datagram, long At)> Sent { get; } = [];

        public void SendUdp(in UnderlayAddress destination, ReadOnlySpan<byte> datagram) => Sent.Add((destination, datagram.ToArray(), Now));

        public void SendDerp(int regionId, ReadOnlySpan<byte> nodeKey, ReadOnlySpan<byte> datagram) =>
            throw new InvalidOperationException("Netcheck never uses DERP.");
    }
}
