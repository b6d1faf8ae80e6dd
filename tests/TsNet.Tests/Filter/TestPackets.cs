using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TsNet.Tests.Filter;

/// <summary>Raw IP packets for the filter (headers only as far as the filter reads them; checksums are not checked).</summary>
internal static class TestPackets
{
    public const byte Syn = 0x02;
    public const byte Ack = 0x10;
    public const byte SynAck = Syn | Ack;

    public static byte[] Tcp(string source, ushort sourcePort, string destination, ushort destinationPort, byte flags = Syn) =>
        Build(6, source, destination, 20, t =>
        {
            BinaryPrimitives.WriteUInt16BigEndian(t, sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(t[2..], destinationPort);
            t[12] = 5 << 4;
            t[13] = flags;
        });

    public static byte[] Udp(string source, ushort sourcePort, string destination, ushort destinationPort) =>
        Build(17, source, destination, 8, t =>
        {
            BinaryPrimitives.WriteUInt16BigEndian(t, sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(t[2..], destinationPort);
        });

    public static byte[] EchoRequest(string source, string destination, ushort id) => Icmp(source, destination, request: true, id);

    public static byte[] EchoReply(string source, string destination, ushort id) => Icmp(source, destination, request: false, id);

    /// <summary>Destination unreachable (ICMPv4 type 3, ICMPv6 type 1).</summary>
    public static byte[] Unreachable(string source, string destination) =>
        Build(IsV6(source) ? (byte)58 : (byte)1, source, destination, 8, t => t[0] = IsV6(source) ? (byte)1 : (byte)3);

    /// <summary>A packet of another protocol (e.g. 47, GRE) with a few payload bytes.</summary>
    public static byte[] Other(byte protocol, string source, string destination) => Build(protocol, source, destination, 8, _ => { });

    /// <summary>A later IPv4 fragment (offset 8 bytes) of a UDP datagram: no transport header.</summary>
    public static byte[] LaterFragmentV4(string source, string destination)
    {
        var packet = Udp(source, 1, destination, 2);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), 1);
        return packet;
    }

    private static byte[] Icmp(string source, string destination, bool request, ushort id)
    {
        var v6 = IsV6(source);
        return Build(v6 ? (byte)58 : (byte)1, source, destination, 8, t =>
        {
            t[0] = (v6, request) switch { (true, true) => 128, (true, false) => 129, (false, true) => 8, (false, false) => 0 };
            BinaryPrimitives.WriteUInt16BigEndian(t[4..], id);
            BinaryPrimitives.WriteUInt16BigEndian(t[6..], 1);
        });
    }

    private static bool IsV6(string address) => IPAddress.Parse(address).AddressFamily == AddressFamily.InterNetworkV6;

    private delegate void TransportWriter(Span<byte> transport);

    private static byte[] Build(byte protocol, string source, string destination, int transportLength, TransportWriter write)
    {
        var src = IPAddress.Parse(source);
        var dst = IPAddress.Parse(destination);
        byte[] packet;
        if (src.AddressFamily == AddressFamily.InterNetwork)
        {
            packet = new byte[20 + transportLength];
            packet[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
            packet[8] = 64;
            packet[9] = protocol;
            src.TryWriteBytes(packet.AsSpan(12), out _);
            dst.TryWriteBytes(packet.AsSpan(16), out _);
            write(packet.AsSpan(20));
        }
        else
        {
            packet = new byte[40 + transportLength];
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)transportLength);
            packet[6] = protocol;
            packet[7] = 64;
            src.TryWriteBytes(packet.AsSpan(8), out _);
            dst.TryWriteBytes(packet.AsSpan(24), out _);
            write(packet.AsSpan(40));
        }

        return packet;
    }
}
