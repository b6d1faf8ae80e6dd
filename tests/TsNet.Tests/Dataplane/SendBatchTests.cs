using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.Dataplane;

/// <summary>UDP GSO batching: what a receiver sees must be exactly the datagrams, in order, as if sent one by one.</summary>
public sealed class SendBatchTests
{
    [Fact]
    public async Task Batches_ArriveAsTheOriginalDatagrams_InOrder()
    {
        var inbound = Channel.CreateUnbounded<UnderlayDatagram>();
        await using var underlay = UdpUnderlay.Bind(0, new PacketBufferPool(), inbound.Writer, _ => { }, NullLogger.Instance);
        underlay.TryEnableGso(100).Should().BeTrue("Linux has UDP_SEGMENT since 4.18");
        using var receiverA = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var receiverB = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiverA.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        receiverB.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var a = UnderlayAddress.FromIPEndPoint((IPEndPoint)receiverA.LocalEndPoint!);
        var b = UnderlayAddress.FromIPEndPoint((IPEndPoint)receiverB.LocalEndPoint!);

        // Sizes and destinations in send order: full runs, a short tail, a switch of destination, a lone small one.
        var plan = new (UnderlayAddress To, int Size)[]
        {
            (a, 100), (a, 100), (a, 100), (a, 40), (a, 100), (b, 100), (b, 7), (a, 100),
        };
        var batch = new SendBatch();
        byte marker = 0;
        foreach (var (to, size) in plan)
        {
            var datagram = new byte[size];
            Array.Fill(datagram, ++marker);
            batch.Add(to, datagram, underlay);
        }

        for (var i = 0; i < 70; i++)
        {
            var datagram = new byte[100];
            Array.Fill(datagram, (byte)200);
            batch.Add(b, datagram, underlay); // more than one GSO send's worth of segments
        }

        batch.Flush(underlay);

        async Task<List<(int Size, byte Marker)>> ReceiveAsync(Socket socket, int count)
        {
            var received = new List<(int, byte)>();
            var buffer = new byte[2000];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            for (var i = 0; i < count; i++)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                buffer.AsSpan(0, n).ToArray().Distinct().Should().ContainSingle("a datagram was not split or merged wrongly");
                received.Add((n, buffer[0]));
            }

            return received;
        }

        (await ReceiveAsync(receiverA, 6)).Should().Equal((100, 1), (100, 2), (100, 3), (40, 4), (100, 5), (100, 8));
        var atB = await ReceiveAsync(receiverB, 72);
        atB.Take(2).Should().Equal((100, 6), (7, 7));
        atB.Skip(2).Should().OnlyContain(d => d.Size == 100 && d.Marker == 200);
    }
    [Fact]
    public async Task MixedSegmentSizes_DirectAndRelayedRuns_AreNeverSplitOrMerged()
    {
        // GSO is enabled at the largest datagram (a relayed one: 8 bytes of Geneve more); runs of direct datagrams
        // use their own segment size, and a single larger datagram after them must not be cut at the smaller size.
        var inbound = Channel.CreateUnbounded<UnderlayDatagram>();
        await using var underlay = UdpUnderlay.Bind(0, new PacketBufferPool(), inbound.Writer, _ => { }, NullLogger.Instance);
        underlay.TryEnableGso(108).Should().BeTrue();
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var to = UnderlayAddress.FromIPEndPoint((IPEndPoint)receiver.LocalEndPoint!);

        var sizes = new[] { 100, 100, 100, 108, 108, 108, 100, 108, 108, 50, 100, 100 };
        var batch = new SendBatch();
        for (var i = 0; i < sizes.Length; i++)
        {
            var datagram = new byte[sizes[i]];
            Array.Fill(datagram, (byte)(i + 1));
            batch.Add(to, datagram, underlay);
        }

        batch.Flush(underlay);
        underlay.SendNow(to, new byte[108]); // a lone largest datagram after batches of smaller segments

        var buffer = new byte[2000];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = new List<(int Size, byte Marker)>();
        for (var i = 0; i < sizes.Length + 1; i++)
        {
            var n = await receiver.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            received.Add((n, buffer[0]));
        }

        received.Should().Equal(sizes.Select((size, i) => (size, (byte)(i + 1))).Append((108, (byte)0)));
        underlay.SendDrops.Should().Be(0);
    }
}
