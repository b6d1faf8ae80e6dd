using TsNet.Packets;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>ip</c>: the IPv4/IPv6/TCP/UDP/ICMP views and header parsers of TsNet.Packets, every accessor read; a view,
/// once created, must stay inside its buffer and the TCP option reader must terminate.
/// </summary>
internal sealed class PacketViewsTarget : IFuzzTarget
{
    private static readonly byte[] s_zeroAddress = new byte[16];

    /// <summary>Keeps the reads from being optimized away.</summary>
    public long Sink { get; private set; }

    public IReadOnlyList<byte[]> Corpus => PacketCorpus.All;

    public int MaxInputLength => 1500;

    public void Execute(byte[] input)
    {
        ReadOnlySpan<byte> bytes = input;
        long sink = 0;
        if (Ipv4Packet.TryCreate(bytes, out var v4))
        {
            Check(v4.Bytes.Length <= bytes.Length, "IPv4 view longer than its buffer");
            sink += v4.HeaderLength + v4.TotalLength + v4.Identification + v4.FragmentOffset + v4.TimeToLive + v4.Protocol + v4.Checksum;
            sink += v4.SourceValue + v4.DestinationValue + v4.Options.Length + v4.Payload.Length + v4.Dscp + v4.Ecn;
            sink += (v4.IsChecksumValid() ? 1 : 0) + (v4.IsFragment ? 1 : 0) + (v4.DontFragment ? 1 : 0);
            _ = Ipv4Header.TryParse(v4, out _);
            sink += UpperLayers(v4.Payload, v4.Source, v4.Destination, isIpv6: false);
        }

        if (Ipv6Packet.TryCreate(bytes, out var v6))
        {
            Check(v6.Bytes.Length <= bytes.Length, "IPv6 view longer than its buffer");
            sink += v6.PayloadLength + v6.NextHeader + v6.HopLimit + v6.TrafficClass + v6.FlowLabel;
            sink += (long)(v6.SourceValue ^ v6.DestinationValue);
            if (v6.TryFindUpperLayer(out var protocol, out var offset))
            {
                Check(offset >= Ipv6Packet.HeaderLength && offset <= v6.Bytes.Length, "IPv6 upper layer offset outside the packet");
                sink += protocol + UpperLayers(v6.Bytes[offset..], v6.Source, v6.Destination, isIpv6: true);
            }

            _ = Ipv6Header.TryParse(v6, out _, out _);
        }

        // The payload parsers also see the raw bytes directly.
        sink += UpperLayers(bytes, s_zeroAddress, s_zeroAddress, isIpv6: true);
        sink += UpperLayers(bytes, s_zeroAddress, s_zeroAddress, isIpv6: false);
        Sink += sink;
    }

    private static long UpperLayers(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, bool isIpv6)
    {
        long sink = 0;
        if (Icmpv4Packet.TryCreate(payload, out var icmp4))
        {
            sink += icmp4.Type + icmp4.Code + icmp4.Checksum + icmp4.Identifier + icmp4.SequenceNumber + icmp4.NextHopMtu + icmp4.Payload.Length;
            sink += icmp4.IsChecksumValid() ? 1 : 0;
        }

        if (Icmpv6Packet.TryCreate(payload, out var icmp6))
        {
            sink += icmp6.Type + icmp6.Code + icmp6.Mtu + icmp6.Identifier + icmp6.SequenceNumber + icmp6.Payload.Length;
            sink += icmp6.IsChecksumValid(source, destination) ? 1 : 0;
        }

        if (UdpDatagram.TryCreate(payload, out var udp))
        {
            Check(udp.Length <= payload.Length, "UDP length beyond its buffer");
            sink += udp.SourcePort + udp.DestinationPort + udp.Checksum + udp.Payload.Length;
            sink += isIpv6 ? (udp.IsChecksumValidIpv6(source, destination) ? 1 : 0) : (udp.IsChecksumValidIpv4(source[..4], destination[..4]) ? 1 : 0);
        }

        if (TcpSegment.TryCreate(payload, out var tcp))
        {
            Check(tcp.HeaderLength <= payload.Length, "TCP header beyond its buffer");
            sink += tcp.SourcePort + tcp.SequenceNumber + tcp.AcknowledgmentNumber + (int)tcp.Flags + tcp.Window + tcp.UrgentPointer + tcp.Payload.Length;
            var reader = new TcpOptionReader(tcp.Options);
            var options = 0;
            while (reader.TryRead(out var kind, out var data))
            {
                sink += kind + data.Length;
                Check(++options <= 40, "TCP option reader returned more options than 40 bytes can hold");
            }
        }

        return sink;
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(what);
        }
    }
}
