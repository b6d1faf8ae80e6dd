using System.Buffers.Binary;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Dataplane;
using TsNet.Derp;
using TsNet.Packets.Buffers;
using TsNet.Paths;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Paths;

/// <summary>
/// disco-direct.md §3.4: a CallMeMaybe announces this node's endpoints only while they are fresh (a netcheck report
/// finished within 27 s); otherwise it waits, a re-STUN is requested, and it goes out when the report finishes. On an
/// explicit clock, through <see cref="MagicUnderlay"/> (its netcheck and disco cores) and on the core alone.
/// </summary>
public sealed class CallMeMaybeFreshnessTests : IAsyncDisposable
{
    private static readonly UnderlayAddress Stun = DiscoTestNetwork.Address("192.0.2.53:3478");
    private static readonly UnderlayAddress Public = DiscoTestNetwork.Address("198.51.100.1:41641");
    private static readonly long Second = TimeSpan.FromSeconds(1).Ticks;

    private readonly PacketBufferPool _pool = new();
    private readonly RecordingUnderlay _inner = new();
    private readonly MagicUnderlay _layer;
    private readonly UnderlayAddress _peerPath;
    private long _now = TimeSpan.FromSeconds(1000).Ticks;

    public CallMeMaybeFreshnessTests()
    {
        var random = new Random(7);
        var ourDisco = new byte[32];
        random.NextBytes(ourDisco);
        var ourNodeKey = new byte[32];
        random.NextBytes(ourNodeKey);
        var derp = new DerpClientSet(new DerpClientSetOptions
        {
            NodePrivateKey = ourNodeKey,
            Pool = _pool,
            Inbound = Channel.CreateUnbounded<UnderlayDatagram>().Writer,
        });

        // Periodic reports far apart: every report in these tests is one the test (or the re-STUN) asked for.
        var netcheck = new NetcheckCore(new NetcheckTimings { ReportIntervalMin = TimeSpan.FromHours(1), ReportIntervalMax = TimeSpan.FromHours(1) });
        _layer = new MagicUnderlay(_inner, derp, new DiscoPathCore(ourDisco, ourNodeKey), netcheck, () => _now, NullLogger.Instance);

        var peerDisco = DiscoKey.Generate();
        var endpoint = new WireGuardEndpoint(new WireGuardEndpointOptions { PrivateKey = ourNodeKey, Pool = _pool });
        var peer = endpoint.AddPeer(WireGuardKey.Generate().PublicKey.Bytes);
        _peerPath = _layer.SetPeer(peer, peerDisco.PublicKey, 1, [IPEndPoint.Parse("203.0.113.9:41641")], _now);
        _layer.SetLocalEndpoints([Public.ToIPEndPoint()], _now);
        _layer.Netcheck.SetTargets([new StunTarget(1, Stun, 1, true)], _now);
    }

    private DiscoPathCounters Counters => _layer.Disco.Counters;

    private int StunRequests => _inner.Sent.Count(s => s.To == Stun);

    [Fact]
    public void StaleEndpoints_NoCallMeMaybeYet_ReStunRequested_ThenSentWhenTheStunResultArrives()
    {
        // First report, answered: fresh endpoints at t0.
        PollIfDue();
        AnswerLastStunRequest();
        _layer.Netcheck.ReportCount.Should().Be(1);
        _layer.Disco.EndpointsRefreshedAt.Should().Be(_now);

        // 28 s later the endpoints are stale: the discovery round pings, but its CallMeMaybe waits for a re-STUN.
        _now += 28 * Second;
        _layer.NextDeadline.Should().BeGreaterThan(_now, "no report is due on its own for an hour");
        SendData();
        Counters.PingsSent.Should().Be(1);
        Counters.CallMeMaybeSent.Should().Be(0);
        Counters.CallMeMaybeDeferred.Should().Be(1);
        _layer.NextDeadline.Should().BeLessThanOrEqualTo(_now, "the re-STUN is due at once");

        PollIfDue();
        StunRequests.Should().Be(2, "the re-STUN went out");
        Counters.CallMeMaybeSent.Should().Be(0, "not before the STUN result");

        _now += Second / 10;
        AnswerLastStunRequest();
        Counters.CallMeMaybeSent.Should().Be(1, "the report finished: the held-back CallMeMaybe goes out");
        _layer.Disco.EndpointsRefreshedAt.Should().Be(_now);

        // Nothing is owed any more: a later report sends no second one.
        _layer.Disco.NoteEndpointsRefreshed(_now, _layer);
        Counters.CallMeMaybeSent.Should().Be(1);
    }

    [Fact]
    public void FreshEndpoints_CallMeMaybeAtOnce_NoReStun()
    {
        PollIfDue();
        AnswerLastStunRequest();

        _now += 26 * Second;
        SendData();

        Counters.PingsSent.Should().Be(1);
        Counters.CallMeMaybeSent.Should().Be(1, "a report finished 26 s ago: fresh enough");
        Counters.CallMeMaybeDeferred.Should().Be(0);
        _layer.NextDeadline.Should().BeGreaterThan(_now, "no re-STUN was requested");
        StunRequests.Should().Be(1);
    }

    [Fact]
    public void NothingToStun_TheHeldBackCallMeMaybeGoesOutAtTheNextPoll()
    {
        _layer.Netcheck.SetTargets([], _now);

        SendData();
        Counters.CallMeMaybeDeferred.Should().Be(1, "no report ever finished");
        Counters.CallMeMaybeSent.Should().Be(0);
        _layer.NextDeadline.Should().BeLessThanOrEqualTo(_now);

        _layer.Poll(_now);
        Counters.CallMeMaybeSent.Should().Be(1, "with nothing to STUN the endpoints are as fresh as they get");
        StunRequests.Should().Be(0);
    }

    [Fact]
    public void Core_FreshnessBoundaryIs27Seconds()
    {
        var net = new DiscoTestNetwork();
        var a = net.AddNode("A", "198.51.100.1:41641");
        var b = net.AddNode("B", "203.0.113.2:41641");
        var bId = a.Knows(b);
        var requests = new List<long>();
        a.Core.EndpointRefreshNeeded += requests.Add;
        net.UdpCut = true;
        a.Core.NoteEndpointsRefreshed(net.Now, a);

        net.Now += TimeSpan.FromSeconds(27).Ticks;
        a.Send(bId);
        a.Core.Counters.CallMeMaybeSent.Should().Be(1, "exactly 27 s is still fresh");
        requests.Should().BeEmpty();

        net.Now += TimeSpan.FromSeconds(6).Ticks;
        a.Send(bId);
        a.Core.Counters.CallMeMaybeSent.Should().Be(1, "33 s: stale");
        requests.Should().Equal(net.Now);
        a.DerpSent.Should().HaveCount(1);

        a.Core.NoteEndpointsRefreshed(net.Now, a);
        a.DerpSent.Should().HaveCount(2).And.OnlyContain(d => d.Region == DiscoTestNetwork.Region);
    }

    private void SendData() => _layer.Send(_peerPath, new byte[] { 4, 0, 0, 0, 1, 2, 3, 4 });

    private void PollIfDue()
    {
        if (_layer.NextDeadline <= _now)
        {
            _layer.Poll(_now);
        }
    }

    /// <summary>The STUN server answers our last request: this node seen as <see cref="Public"/>.</summary>
    private void AnswerLastStunRequest()
    {
        var request = _inner.Sent.Last(s => s.To == Stun).Datagram;
        var response = Response(request.AsSpan(8, 12), Public);
        var buffer = _pool.Rent();
        buffer.SetLength(response.Length);
        response.CopyTo(buffer.Span);
        var datagram = new UnderlayDatagram(buffer, Stun);
        _layer.Receive(ref datagram, _now).Should().Be(UnderlayReceiveResult.Consumed);
    }

    /// <summary>A STUN binding success response with an XOR-MAPPED-ADDRESS (IPv4).</summary>
    private static byte[] Response(ReadOnlySpan<byte> txId, UnderlayAddress mapped)
    {
        var packet = new byte[20 + 4 + 4 + 4];
        BinaryPrimitives.WriteUInt16BigEndian(packet, 0x0101);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 12);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), StunMessage.MagicCookie);
        txId.CopyTo(packet.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), 0x0020);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), 8);
        packet[25] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(26), (ushort)(mapped.Port ^ 0x2112));
        mapped.WriteAddress(packet.AsSpan(28));
        for (var i = 0; i < 4; i++)
        {
            packet[28 + i] ^= packet[4 + i];
        }

        return packet;
    }

    public async ValueTask DisposeAsync() => await _layer.DisposeAsync();
}
