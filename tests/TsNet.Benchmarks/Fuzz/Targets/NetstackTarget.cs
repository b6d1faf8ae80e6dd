using System.Net;
using TsNet.Netstack;
using TsNet.Netstack.Sockets;
using TsNet.Packets.Buffers;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>netstack</c>: IP packets into <see cref="NetstackCore.ProcessInbound"/> of a core with addresses 100.64.0.2 and
/// fd7a:115c:a1e0::2, a TCP listener on 443 and UDP sockets on 53 and 5353 (the ports of the corpus packets): the IP
/// views, ICMP echo and error handling, UDP delivery and TCP demultiplexing and handshakes in one stateful core.
/// Seven in eight inputs get their checksums recomputed. Every input moves the clock 10 ms; outbound packets and received datagrams are drained; packet buffers must all
/// come back to the pool.
/// </summary>
internal sealed class NetstackTarget : IFuzzTarget
{
    private readonly PacketBufferPool _pool = new(maxPooled: 8192);
    private readonly NetstackCore _core;
    private readonly List<UdpSocketState> _udp = [];
    private readonly List<TcpSocket> _touched = [];
    private long _now = TimeSpan.FromHours(1).Ticks;
    private long _inputs;
    private long _outbound;
    private long _datagrams;

    public NetstackTarget()
    {
        _core = new NetstackCore(new NetstackOptions
        {
            Addresses = [IPAddress.Parse("100.64.0.2"), IPAddress.Parse("fd7a:115c:a1e0::2")],
            Pool = _pool,
            MaxTcpConnections = 256,
            TcpListenBacklog = 16,
            TimestampFrequency = TimeSpan.TicksPerSecond,
        });
        _core.ListenTcp(443);
        foreach (var port in (int[])[53, 5353])
        {
            if (_core.TryBindUdp(null, port, out var socket) != UdpBindResult.Bound)
            {
                throw new InvalidOperationException($"UDP port {port} did not bind");
            }

            _udp.Add(socket!);
        }

        // The fixtures as they are, and readdressed to this core (with checksums fixed), so most reach a handler.
        var v4 = IPAddress.Parse("100.64.0.2").GetAddressBytes();
        var v6 = IPAddress.Parse("fd7a:115c:a1e0::2").GetAddressBytes();
        var corpus = new List<byte[]>(PacketCorpus.All);
        foreach (var fixture in PacketCorpus.All)
        {
            var copy = (byte[])fixture.Clone();
            switch (copy[0] >> 4)
            {
                case 4:
                    v4.CopyTo(copy, 16);
                    break;
                case 6:
                    v6.CopyTo(copy, 24);
                    break;
            }

            ChecksumFixer.Fix(copy);
            corpus.Add(copy);
        }

        Corpus = corpus;
    }

    public IReadOnlyList<byte[]> Corpus { get; }

    public int MaxInputLength => 1280;

    public string Describe() =>
        $"outbound packets {_outbound}, UDP datagrams delivered {_datagrams}, echo requests answered {_core.Counters.EchoRequestsAnswered}, "
        + $"TCP resets sent {_core.Counters.TcpResetsSent}, TCP connections now {_core.TcpConnectionCount}; drops "
        + string.Join(", ", Enum.GetValues<NetstackDropReason>().Where(r => _core.Counters.Dropped(r) > 0).Select(r => $"{r}={_core.Counters.Dropped(r)}"));

    public void Execute(byte[] input)
    {
        _inputs++;
        _now += TimeSpan.TicksPerMillisecond * 10;
        var buffer = _pool.Rent();
        if (input.Length > buffer.Tailroom)
        {
            buffer.Return();
            return;
        }

        var span = buffer.Append(input.Length);
        input.CopyTo(span);
        if (_inputs % 8 != 0)
        {
            // Seven in eight get valid checksums, so the mutation reaches what sits behind the checksum check.
            ChecksumFixer.Fix(span);
        }

        _core.ProcessInbound(buffer, _now);
        if (_now >= _core.NextDeadline)
        {
            _core.Poll(_now);
        }

        _touched.Clear();
        _core.TakeTouchedTcp(_touched);
        foreach (var socket in _touched)
        {
            _core.FlushTcp(socket, _now);
        }

        while (_core.TryDequeueOutbound(out var packet))
        {
            _outbound++;
            packet.Return();
        }

        foreach (var socket in _udp)
        {
            while (socket.Receive.TryRead(out var datagram))
            {
                _datagrams++;
                datagram.Payload.Return();
            }
        }

        if (_inputs % 4096 == 0 && _pool.CreatedCount - _pool.IdleCount > 1024)
        {
            throw new FuzzInvariantException($"{_pool.CreatedCount - _pool.IdleCount} packet buffers are out of the pool");
        }
    }
}
