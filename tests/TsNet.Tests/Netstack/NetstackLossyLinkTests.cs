using System.Net;
using System.Security.Cryptography;
using TsNet.Netstack;
using TsNet.Netstack.Sockets;
using TsNet.Netstack.Tcp;
using TsNet.Packets.Buffers;
using Xunit.Abstractions;

namespace TsNet.Tests.Netstack;

/// <summary>
/// Two whole netstacks (IP demux, TCP, output queues) joined by an in-process link that drops, duplicates,
/// reorders and delays packets with a seeded RNG, in virtual time: a stream each way arrives byte-exact within a
/// bounded (virtual) time, and no pooled buffer leaks.
/// </summary>
public sealed class NetstackLossyLinkTests
{
    private static readonly IPAddress AddressA = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress AddressB = IPAddress.Parse("100.64.0.2");
    private readonly ITestOutputHelper _output;

    public NetstackLossyLinkTests(ITestOutputHelper output) => _output = output;

    private static int Scale => TestScale.Factor;

    [Theory]
    [InlineData(1, 0.0, 0.0, 0.0)]
    [InlineData(2, 0.0, 0.0, 0.03)]
    [InlineData(3, 0.05, 0.01, 0.03)]
    [InlineData(4, 0.05, 0.05, 0.05)]
    [InlineData(5, 0.05, 0.0, 0.05)]
    [InlineData(6, 0.05, 0.05, 0.0)]
    [InlineData(7, 0.05, 0.0, 0.0)]
    [InlineData(8, 0.10, 0.0, 0.0)]
    public void StreamsBothWays_OverLossyReorderingLink_ArriveByteExact(int seed, double loss, double duplicate, double reorder)
    {
        // 20 MB each way at scale 10 of the loss cases would be slow in a unit run; 200 MB is what the issue asks
        // for at scale 10, run as a measurement (TSNET_TEST_SCALE=10 takes a few minutes of CPU).
        var bytes = (loss == 0 ? 4 : 2) * 1024 * 1024 * Scale;
        if (Scale >= 10)
        {
            bytes = 200 * 1024 * 1024;
        }

        var random = new Random(seed);
        var pool = new PacketBufferPool(maxPooled: 16384);
        var a = new NetstackCore(new NetstackOptions { Addresses = [AddressA], Pool = pool, TimestampFrequency = TimeSpan.TicksPerSecond });
        var b = new NetstackCore(new NetstackOptions { Addresses = [AddressB], Pool = pool, TimestampFrequency = TimeSpan.TicksPerSecond });
        var link = new PriorityQueue<(NetstackCore To, PacketBuffer Packet), (long At, long Order)>();
        long now = 0, order = 0, sent = 0, lost = 0;

        var listener = b.ListenTcp(443);
        var client = a.ConnectTcp(new IPEndPoint(AddressB, 443), now);
        TcpSocket? server = null;

        var up = new byte[bytes];
        var down = new byte[bytes];
        random.NextBytes(up);
        random.NextBytes(down);
        var upHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var downHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long upWritten = 0, downWritten = 0, upRead = 0, downRead = 0;
        var readBuffer = new byte[64 * 1024];
        var touched = new List<TcpSocket>();

        void Pump(NetstackCore core, NetstackCore peer)
        {
            touched.Clear();
            core.TakeTouchedTcp(touched);
            foreach (var socket in touched)
            {
                socket.Connection.TakeEvents();
                core.FlushTcp(socket, now);
            }

            while (core.TryDequeueOutbound(out var packet))
            {
                sent++;
                if (random.NextDouble() < loss)
                {
                    lost++;
                    packet.Return();
                    continue;
                }

                // 10 ms one way; a few packets are held back 1–5 ms longer, which reorders them behind later ones.
                var delay = TimeSpan.FromMilliseconds(10 + (random.NextDouble() < reorder ? 1 + (random.NextDouble() * 4) : 0)).Ticks;
                if (random.NextDouble() < duplicate)
                {
                    var copy = pool.Rent(packet.Offset);
                    packet.Span.CopyTo(copy.Append(packet.Length));
                    link.Enqueue((peer, copy), (now + delay + TimeSpan.FromMilliseconds(3).Ticks, order++));
                }

                link.Enqueue((peer, packet), (now + delay, order++));
            }
        }

        // Virtual time bound: 60 s plus the bytes at a floor rate. Loss-free, 256 KiB/s. With loss, Reno-style TCP over
        // this 20 ms RTT link runs at roughly MSS/RTT·1.22/√p (Mathis: ≈ 330 KB/s at 5 %, ≈ 230 KB/s at 10 %) minus
        // timeouts; 200 MiB each way measured 730–1270 s (≈ 160–280 KiB/s). 64 KiB/s leaves room and still catches a
        // stall (a dead connection gives up only after 15 backed-off timeouts).
        var limit = TimeSpan.FromSeconds(60 + (bytes / ((loss == 0 ? 256 : 64) * 1024))).Ticks;
        var steps = 0;
        while (upRead < bytes || downRead < bytes)
        {
            steps++;
            if (now >= limit)
            {
                Report(client, "client");
                Report(server, "server");
            }

            now.Should().BeLessThan(limit, $"transfer stalled: up {upRead}/{bytes}, down {downRead}/{bytes}");

            // App side: write what fits, read what arrived.
            if (upWritten < bytes)
            {
                upWritten += client.Connection.Write(up.AsSpan((int)upWritten));
                a.Touch(client);
            }

            if (server is null && listener.Accepted.Reader.TryRead(out _))
            {
                throw new InvalidOperationException("the core does not hand out channels; the loop does");
            }

            server ??= FindServer(b);
            if (server is not null)
            {
                if (downWritten < bytes)
                {
                    downWritten += server.Connection.Write(down.AsSpan((int)downWritten));
                }

                int n;
                while ((n = server.Connection.Read(readBuffer)) > 0)
                {
                    upHash.AppendData(readBuffer, 0, n);
                    upRead += n;
                }

                b.Touch(server);
            }

            int m;
            while ((m = client.Connection.Read(readBuffer)) > 0)
            {
                downHash.AppendData(readBuffer, 0, m);
                downRead += m;
            }

            a.Touch(client);
            Pump(a, b);
            Pump(b, a);

            // Advance virtual time to the next event: a packet arrival or a timer.
            var next = Math.Min(a.NextDeadline, b.NextDeadline);
            if (link.TryPeek(out _, out var arrival))
            {
                next = Math.Min(next, arrival.At);
            }

            now = Math.Max(now, next == long.MaxValue ? now + TimeSpan.FromMilliseconds(1).Ticks : next);
            while (link.TryPeek(out var item, out var at) && at.At <= now)
            {
                link.Dequeue();
                item.To.ProcessInbound(item.Packet, now);
            }

            a.Poll(now);
            b.Poll(now);
        }

        Report(client, "client");
        Report(server, "server");
        upHash.GetHashAndReset().Should().Equal(SHA256.HashData(up));
        downHash.GetHashAndReset().Should().Equal(SHA256.HashData(down));
        _output.WriteLine($"{bytes} bytes each way, loss {loss:P0}, duplicates {duplicate:P0}, reordered {reorder:P0}: {sent} packets ({lost} lost), " +
            $"{TimeSpan.FromTicks(now).TotalSeconds:0.0} s virtual, {steps} steps");

        // Close both ways and let TIME-WAIT run out: nothing may stay behind.
        client.Connection.Shutdown();
        server!.Connection.Shutdown();
        a.Touch(client);
        b.Touch(server);
        for (var i = 0; i < 100_000 && (a.TcpConnectionCount > 0 || b.TcpConnectionCount > 0); i++)
        {
            Pump(a, b);
            Pump(b, a);
            var next = Math.Min(a.NextDeadline, b.NextDeadline);
            if (link.TryPeek(out _, out var arrival))
            {
                next = Math.Min(next, arrival.At);
            }

            now = Math.Max(now + 1, next == long.MaxValue ? now + TimeSpan.FromSeconds(1).Ticks : next);
            while (link.TryPeek(out var item, out var at) && at.At <= now)
            {
                link.Dequeue();
                item.To.ProcessInbound(item.Packet, now);
            }

            a.Poll(now);
            b.Poll(now);
        }

        a.TcpConnectionCount.Should().Be(0);
        b.TcpConnectionCount.Should().Be(0);
        while (link.TryDequeue(out var item, out _))
        {
            item.Packet.Return();
        }

        a.Clear();
        b.Clear();
        pool.IdleCount.Should().Be((int)pool.CreatedCount, "every packet buffer went back to the pool");
    }

    private void Report(TcpSocket? socket, string name)
    {
        if (socket is null)
        {
            return;
        }

        var c = socket.Connection;
        var k = c.Counters;
        _output.WriteLine($"{name}: state {c.State}, sent {k.SegmentsSent}, received {k.SegmentsReceived}, retransmissions {k.Retransmissions}, " +
            $"RTOs {k.RetransmitTimeouts}, fast {k.FastRetransmits}, out-of-order {k.OutOfOrderSegments}, reassembly drops {k.ReassemblyDrops}, " +
            $"duplicates {k.DuplicateSegments}, unacceptable {k.UnacceptableSegments}, cwnd {c.Congestion.Window} ssthresh {c.Congestion.SlowStartThreshold}, sndwnd {c.SendWindow}, " +
            $"unacked {c.UnacknowledgedBytes}, rto {TimeSpan.FromTicks(c.Rtt.Rto).TotalMilliseconds} ms backoff {c.RetransmitTimer.Backoff}, srtt {TimeSpan.FromTicks(c.Rtt.SmoothedRtt).TotalMilliseconds} ms");
    }

    private static TcpSocket? FindServer(NetstackCore core)
    {
        TcpSocket? found = null;
        core.ForEachTcpSocket(s => found ??= s.Connection.State == TcpState.Established || s.Connection.State == TcpState.CloseWait ? s : null);
        return found;
    }
}
