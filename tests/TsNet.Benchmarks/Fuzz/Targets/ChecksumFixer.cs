using System.Buffers.Binary;
using TsNet.Packets;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// Recomputes the IPv4 header checksum and the TCP/UDP/ICMP checksum of a (mutated) packet where its fields allow,
/// so mutations get past checksum validation into the logic behind it. Works on whatever the length fields say,
/// clipped to the buffer; never throws.
/// </summary>
internal static class ChecksumFixer
{
    public static void Fix(Span<byte> packet)
    {
        if (packet.Length >= 20 && packet[0] >> 4 == 4)
        {
            var headerLength = (packet[0] & 0x0F) * 4;
            if (headerLength < 20 || headerLength > packet.Length)
            {
                return;
            }

            Ipv4Packet.FillChecksum(packet);
            var total = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(packet[2..]), packet.Length);
            if (total <= headerLength || (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3FFF) != 0)
            {
                return;
            }

            var payload = packet[headerLength..total];
            var pseudo = InternetChecksum.PseudoHeaderIpv4(packet[12..16], packet[16..20], packet[9], payload.Length);
            FixUpper(payload, packet[9], pseudo, isIpv6: false);
        }
        else if (packet.Length >= 40 && packet[0] >> 4 == 6)
        {
            var end = Math.Min(40 + BinaryPrimitives.ReadUInt16BigEndian(packet[4..]), packet.Length);
            var payload = packet[40..end];
            var pseudo = InternetChecksum.PseudoHeaderIpv6(packet[8..24], packet[24..40], packet[6], payload.Length);
            FixUpper(payload, packet[6], pseudo, isIpv6: true);
        }
    }

    private static void FixUpper(Span<byte> payload, byte protocol, ulong pseudoHeader, bool isIpv6)
    {
        switch (protocol)
        {
            case 6 when payload.Length >= 20:
                TcpSegment.FillChecksum(payload, pseudoHeader);
                break;
            case 17 when payload.Length >= 8:
                UdpDatagram.FillChecksum(payload, pseudoHeader);
                break;
            case 1 when !isIpv6 && payload.Length >= 8:
                Icmpv4Packet.FillChecksum(payload);
                break;
            case 58 when isIpv6 && payload.Length >= 8:
                BinaryPrimitives.WriteUInt16BigEndian(payload[2..], 0);
                BinaryPrimitives.WriteUInt16BigEndian(payload[2..], InternetChecksum.Compute(payload, pseudoHeader));
                break;
        }
    }
}
