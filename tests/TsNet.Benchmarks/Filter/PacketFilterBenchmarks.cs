using System.Buffers.Binary;
using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using TsNet.Filter;

namespace TsNet.Benchmarks.Filter;

/// <summary>
/// Per-packet cost of the packet filter: 100 rules (each its own source /32 and /128 and destination port, as an
/// ACL with one rule per host), judged for a connection-opening SYN that matches the last rule or none (a full scan),
/// and the flow table holding 10 000 UDP flows: an inbound reply found among them and an outbound packet refreshing
/// its flow. Decisions per second = 1 s / the mean.
/// Run: dotnet run -c Release --project tests/TsNet.Benchmarks -- --filter *PacketFilter* --job short
/// </summary>
[MemoryDiagnoser]
public class PacketFilterBenchmarks
{
    private const int Rules = 100;
    private const int Flows = 10_000;

    private StatefulPacketFilter _filter = null!;
    private byte[] _synLastRule = null!;
    private byte[] _synNoRule = null!;
    private byte[] _synLastRuleV6 = null!;
    private byte[] _tcpAck = null!;
    private byte[][] _replies = null!;
    private byte[][] _outbound = null!;
    private int _next;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        var json = new StringBuilder("[");
        for (var i = 0; i < Rules; i++)
        {
            json.Append(i == 0 ? "" : ",")
                .Append($$$"""{"SrcIPs":["100.65.{{{i}}}.1","fd7a:115c:a1e0::{{{i + 1:x}}}:1"],"DstPorts":[{"IP":"100.64.0.2","Ports":{"First":{{{1000 + i}}},"Last":{{{1000 + i}}}}},{"IP":"fd7a:115c:a1e0::2","Ports":{"First":{{{1000 + i}}},"Last":{{{1000 + i}}}}}],"IPProto":[6,17]}""");
        }

        _filter = new StatefulPacketFilter(PacketFilter.Parse(Encoding.UTF8.GetBytes(json.Append(']').ToString())), flowCapacity: Flows);
        _synLastRule = Ipv4(6, "100.65.99.1", 40000, "100.64.0.2", 1099, flags: 0x02);
        _synNoRule = Ipv4(6, "100.65.99.1", 40000, "100.64.0.2", 1098, flags: 0x02);
        _synLastRuleV6 = Ipv6Tcp("fd7a:115c:a1e0::64:1", 40000, "fd7a:115c:a1e0::2", 1099);
        _tcpAck = Ipv4(6, "100.65.1.1", 40000, "100.64.0.2", 5000, flags: 0x10);

        _replies = new byte[Flows][];
        _outbound = new byte[Flows][];
        for (var i = 0; i < Flows; i++)
        {
            var peer = $"100.66.{i >> 8}.{i & 0xFF}";
            _outbound[i] = Ipv4(17, "100.64.0.2", (ushort)(20000 + (i % 30000)), peer, 53);
            _replies[i] = Ipv4(17, peer, 53, "100.64.0.2", (ushort)(20000 + (i % 30000)));
            _filter.RecordOutbound(_outbound[i], 0);
        }

        if (_filter.Flows.Count != Flows || !_filter.AllowInbound(_synLastRule, 0) || _filter.AllowInbound(_synNoRule, 0)
            || !_filter.AllowInbound(_synLastRuleV6, 0) || !_filter.AllowInbound(_replies[Flows / 2], 0))
        {
            throw new InvalidOperationException("benchmark setup does not decide as intended");
        }
    }

    [Benchmark(Description = "SYN allowed by rule 100 of 100 (IPv4)")]
    public bool SynMatchesLastRule() => _filter.AllowInbound(_synLastRule, _now);

    [Benchmark(Description = "SYN allowed by rule 100 of 100 (IPv6)")]
    public bool SynMatchesLastRuleV6() => _filter.AllowInbound(_synLastRuleV6, _now);

    [Benchmark(Description = "SYN denied after 100 rules")]
    public bool SynDenied() => _filter.AllowInbound(_synNoRule, _now);

    [Benchmark(Description = "TCP non-SYN (passes unjudged)")]
    public bool TcpAck() => _filter.AllowInbound(_tcpAck, _now);

    [Benchmark(Description = "UDP reply found among 10 000 flows")]
    public bool UdpReply()
    {
        var i = _next = (_next + 7919) % Flows;
        return _filter.AllowInbound(_replies[i], ++_now);
    }

    [Benchmark(Description = "UDP outbound refreshing 1 of 10 000 flows")]
    public int UdpOutbound()
    {
        var i = _next = (_next + 7919) % Flows;
        _filter.RecordOutbound(_outbound[i], ++_now);
        return _filter.Flows.Count;
    }

    private static byte[] Ipv4(byte protocol, string source, ushort sourcePort, string destination, ushort destinationPort, byte flags = 0)
    {
        var packet = new byte[20 + 20];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[9] = protocol;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(12), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), destinationPort);
        packet[33] = flags;
        return packet;
    }

    private static byte[] Ipv6Tcp(string source, ushort sourcePort, string destination, ushort destinationPort)
    {
        var packet = new byte[40 + 20];
        packet[0] = 0x60;
        packet[6] = 6;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(8), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(24), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(40), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(42), destinationPort);
        packet[53] = 0x02;
        return packet;
    }
}
