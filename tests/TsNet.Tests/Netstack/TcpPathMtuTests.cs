using System.Net;
using TsNet.Netstack;
using TsNet.Netstack.Sockets;
using TsNet.Netstack.Tcp;
using TsNet.Packets;
using TsNet.Packets.Buffers;

namespace TsNet.Tests.Netstack;

/// <summary>An ICMP "fragmentation needed" for a live TCP connection makes its later segments fit the path.</summary>
public sealed class TcpPathMtuTests
{
    private static readonly IPAddress AddressA = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress AddressB = IPAddress.Parse("100.64.0.2");

    [Fact]
    public void FragmentationNeeded_ShrinksSegmentsOfTheLiveConnection()
    {
        var pool = new PacketBufferPool();
        var a = new NetstackCore(new NetstackOptions { Addresses = [AddressA], Pool = pool, TimestampFrequency = TimeSpan.TicksPerSecond });
        var b = new NetstackCore(new NetstackOptions { Addresses = [AddressB], Pool = pool, TimestampFrequency = TimeSpan.TicksPerSecond });
        b.ListenTcp(80);
        var client = a.ConnectTcp(new IPEndPoint(AddressB, 80), 0);
        var touched = new List<TcpSocket>();
        var lastFromA = new List<byte[]>();

        void Exchange(long now)
        {
            for (var round = 0; round < 20; round++)
            {
                var moved = false;
                foreach (var (from, to) in new[] { (a, b), (b, a) })
                {
                    touched.Clear();
                    from.TakeTouchedTcp(touched);
                    foreach (var socket in touched)
                    {
                        socket.Connection.TakeEvents();
                        from.FlushTcp(socket, now);
                    }

                    while (from.TryDequeueOutbound(out var packet))
                    {
                        moved = true;
                        if (from == a)
                        {
                            lastFromA.Add(packet.Span.ToArray());
                        }

                        to.ProcessInbound(packet, now);
                    }
                }

                if (!moved)
                {
                    return;
                }
            }
        }

        Exchange(0);
        client.Connection.State.Should().Be(TcpState.Established);

        client.Connection.Write(new byte[20_000]);
        a.Touch(client);
        lastFromA.Clear();
        Exchange(TimeSpan.FromMilliseconds(1).Ticks);
        lastFromA.Max(p => p.Length).Should().Be(1280, "full-size segments fill the 1280-byte MTU");

        // A router on the way says 1000 bytes, quoting one of A's full-size packets.
        var quote = lastFromA.First(p => p.Length == 1280).AsSpan(0, IcmpErrorBuilder.Ipv4QuoteLength(20, 1280)).ToArray();
        var icmp = pool.Rent();
        var length = IcmpErrorBuilder.WriteIpv4(icmp.Append(20 + 8 + quote.Length), Ipv4Header.ToValue(IPAddress.Parse("100.64.0.9")),
            Ipv4Header.ToValue(AddressA), Icmpv4Type.DestinationUnreachable, Icmpv4Type.FragmentationNeededCode, 1000, quote);
        icmp.SetLength(length);
        a.ProcessInbound(icmp, TimeSpan.FromMilliseconds(2).Ticks);
        client.Connection.Counters.PathMtuReductions.Should().Be(1);

        client.Connection.Write(new byte[20_000]);
        a.Touch(client);
        lastFromA.Clear();
        Exchange(TimeSpan.FromMilliseconds(3).Ticks);
        lastFromA.Should().NotBeEmpty();
        lastFromA.Max(p => p.Length).Should().BeLessThanOrEqualTo(1000);
    }
}
