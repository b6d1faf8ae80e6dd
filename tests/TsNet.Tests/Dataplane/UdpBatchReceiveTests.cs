using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Dataplane;
using TsNet.Dataplane.Receive;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.Dataplane;

/// <summary>
/// The batched receive path over loopback: a GSO send arrives coalesced (UDP GRO) and leaves the underlay as the
/// original datagrams, byte-exact and in order; datagrams from several sources come through <c>recvmmsg</c>; dispose
/// ends the receive thread.
/// </summary>
public sealed class UdpBatchReceiveTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task GsoBatch_ArrivesCoalesced_AndIsSplitIntoTheOriginalDatagrams(string loopback)
    {
        var address = IPAddress.Parse(loopback);
        var inbound = Channel.CreateUnbounded<UnderlayDatagram>();
        await using var receiver = UdpUnderlay.Bind(0, new PacketBufferPool(), inbound.Writer, _ => { }, NullLogger.Instance, UdpReceivePath.Batched);
        receiver.ReceivePath.Should().Be(UdpReceivePath.Batched, "64-bit Linux has recvmmsg");
        receiver.Start();
        await using var sender = UdpUnderlay.Bind(0, new PacketBufferPool(), Channel.CreateUnbounded<UnderlayDatagram>().Writer, _ => { }, NullLogger.Instance);
        sender.TryEnableGso(1312).Should().BeTrue();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            receiver.Sockets.Should().HaveCount(2, "the test host has IPv6 loopback, so the underlay binds an IPv6 socket too");
        }

        var to = UnderlayAddress.FromIPEndPoint(new IPEndPoint(address, receiver.Port));

        // Two GSO sends of full-size segments and a shorter tail; each datagram's bytes say which one it is.
        var sent = new List<byte[]>();
        var batch = new SendBatch();
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 30; i++)
            {
                sent.Add(Datagram(sent.Count, i == 29 ? 301 : 1312));
                batch.Add(to, sent[^1], sender);
            }

            batch.Flush(sender);
        }

        sender.SendDrops.Should().Be(0, "every GSO send was taken by the socket");

        var received = await ReadAsync(inbound.Reader, sent.Count);

        received.Select(d => d.Bytes).Should().Equal(sent, (a, b) => a.AsSpan().SequenceEqual(b));
        received.Should().OnlyContain(d => d.Source == UnderlayAddress.FromIPEndPoint(new IPEndPoint(address, sender.Port)));
        receiver.BatchReceiver!.CoalescedReceives.Should().BeGreaterThan(0, "a GSO send over loopback arrives as one GRO receive");
        receiver.BatchReceiver.Receives.Should().BeLessThan(sent.Count);
        receiver.InboundDrops.Should().Be(0);
    }

    [Fact]
    public async Task DatagramsFromManySources_AllArrive_EachFromItsSender()
    {
        var inbound = Channel.CreateUnbounded<UnderlayDatagram>();
        await using var receiver = UdpUnderlay.Bind(0, new PacketBufferPool(), inbound.Writer, _ => { }, NullLogger.Instance, UdpReceivePath.Batched);
        receiver.Start();
        var senders = Enumerable.Range(0, 4).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)).ToArray();
        try
        {
            var to = new IPEndPoint(IPAddress.Loopback, receiver.Port);
            var expected = new Dictionary<int, List<int>>();
            foreach (var socket in senders)
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                expected[((IPEndPoint)socket.LocalEndPoint!).Port] = [];
            }

            for (var i = 0; i < 100; i++)
            {
                var socket = senders[i % senders.Length];
                socket.SendTo(Datagram(i, 200 + i), to);
                expected[((IPEndPoint)socket.LocalEndPoint!).Port].Add(i);
            }

            var received = await ReadAsync(inbound.Reader, 100);

            // Per sender in order (UDP over loopback keeps each socket's order); across senders any interleaving.
            foreach (var (port, indexes) in expected)
            {
                received.Where(d => d.Source.Port == port).Select(d => d.Bytes)
                    .Should().Equal(indexes.Select(i => Datagram(i, 200 + i)), (a, b) => a.AsSpan().SequenceEqual(b));
            }
        }
        finally
        {
            foreach (var socket in senders)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task Dispose_EndsTheReceiveThread_AndClosesTheSockets()
    {
        var inbound = Channel.CreateUnbounded<UnderlayDatagram>();
        var receiver = UdpUnderlay.Bind(0, new PacketBufferPool(), inbound.Writer, _ => { }, NullLogger.Instance, UdpReceivePath.Batched);
        receiver.Start();
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.SendTo(Datagram(7, 100), new IPEndPoint(IPAddress.Loopback, receiver.Port));
            (await ReadAsync(inbound.Reader, 1)).Should().ContainSingle(); // the thread is running and waiting in poll
        }

        await receiver.DisposeAsync().AsTask().WaitAsync(Deadline);

        receiver.Tasks.Should().OnlyContain(t => t.IsCompletedSuccessfully);
        receiver.Sockets.Should().OnlyContain(s => s.SafeHandle.IsClosed);
    }

    [Fact]
    public async Task PerDatagramPath_StillReceives()
    {
        var inbound = Channel.CreateUnbounded<UnderlayDatagram>();
        await using var receiver = UdpUnderlay.Bind(0, new PacketBufferPool(), inbound.Writer, _ => { }, NullLogger.Instance, UdpReceivePath.PerDatagram);
        receiver.Start();
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.SendTo(Datagram(3, 1400), new IPEndPoint(IPAddress.Loopback, receiver.Port));

        var received = await ReadAsync(inbound.Reader, 1);

        received.Single().Bytes.Should().Equal(Datagram(3, 1400));
        receiver.BatchReceiver.Should().BeNull();
    }

    private static UnderlayAddress Loopback(int port) => UnderlayAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, port));

    private static byte[] Datagram(int index, int size)
    {
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
        {
            bytes[i] = (byte)(index + (i * 7));
        }

        return bytes;
    }

    private static async Task<List<(byte[] Bytes, UnderlayAddress Source)>> ReadAsync(ChannelReader<UnderlayDatagram> reader, int count)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var received = new List<(byte[], UnderlayAddress)>();
        while (received.Count < count)
        {
            var datagram = await reader.ReadAsync(timeout.Token);
            received.Add((datagram.Buffer.Span.ToArray(), datagram.Source));
            datagram.Buffer.Return();
        }

        return received;
    }
}
