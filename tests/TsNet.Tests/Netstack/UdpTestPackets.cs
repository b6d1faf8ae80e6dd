using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TsNet.Packets;

namespace TsNet.Tests.Netstack;

/// <summary>Builds IPv4/IPv6 UDP packets for netstack tests (checksums right unless asked otherwise).</summary>
internal static class UdpTestPackets
{
    public static byte[] Udp(IPEndPoint source, IPEndPoint destination, byte[] payload, byte hopLimit = 64)
    {
        bool v6 = source.AddressFamily == AddressFamily.InterNetworkV6;
        int ipLength = v6 ? 40 : 20;
        int udpLength = 8 + payload.Length;
        var packet = new byte[ipLength + udpLength];
        if (v6)
        {
            new Ipv6Header(Ipv6Header.ToValue(source.Address), Ipv6Header.ToValue(destination.Address), IpProtocol.Udp, hopLimit, udpLength).Emit(packet);
        }
        else
        {
            new Ipv4Header(Ipv4Header.ToValue(source.Address), Ipv4Header.ToValue(destination.Address), IpProtocol.Udp, hopLimit, udpLength).Emit(packet);
        }

        var udp = packet.AsSpan(ipLength);
        UdpDatagram.WriteHeader(udp, (ushort)source.Port, (ushort)destination.Port, payload.Length);
        payload.CopyTo(udp[8..]);
        ulong pseudo = v6
            ? InternetChecksum.PseudoHeaderIpv6(packet.AsSpan(8, 16), packet.AsSpan(24, 16), IpProtocol.Udp, udpLength)
            : InternetChecksum.PseudoHeaderIpv4(packet.AsSpan(12, 4), packet.AsSpan(16, 4), IpProtocol.Udp, udpLength);
        UdpDatagram.FillChecksum(udp, pseudo);
        return packet;
    }

    public static byte[] WithUdpChecksum(byte[] packet, ushort checksum)
    {
        var copy = (byte[])packet.Clone();
        int ipLength = copy[0] >> 4 == 6 ? 40 : (copy[0] & 0x0F) * 4;
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(ipLength + 6), checksum);
        return copy;
    }

    public static ushort UdpChecksum(ReadOnlySpan<byte> packet)
    {
        int ipLength = packet[0] >> 4 == 6 ? 40 : (packet[0] & 0x0F) * 4;
        return BinaryPrimitives.ReadUInt16BigEndian(packet[(ipLength + 6)..]);
    }

    /// <summary>An ICMP error packet from <paramref name="from"/> to <paramref name="to"/> quoting <paramref name="quote"/>.</summary>
    public static byte[] IcmpError(IPAddress from, IPAddress to, byte type, byte code, uint restOfHeader, ReadOnlySpan<byte> quote)
    {
        var packet = new byte[48 + quote.Length];
        int length = from.AddressFamily == AddressFamily.InterNetworkV6
            ? IcmpErrorBuilder.WriteIpv6(packet, Ipv6Header.ToValue(from), Ipv6Header.ToValue(to), type, code, restOfHeader, quote)
            : IcmpErrorBuilder.WriteIpv4(packet, Ipv4Header.ToValue(from), Ipv4Header.ToValue(to), type, code, restOfHeader, quote);
        return packet[..length];
    }

    public static byte[] Bytes(int length, int seed = 0) => Enumerable.Range(seed, length).Select(i => (byte)i).ToArray();
}
