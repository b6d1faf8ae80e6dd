using System.Net;
using TsNet.Netstack.Tcp;
using TsNet.Packets;
using TsNet.Packets.Buffers;

namespace TsNet.Tests.Netstack;

/// <summary>Builds raw inbound IPv4 SYN segments, as a peer (or a scanner) would send them.</summary>
internal static class SynPackets
{
    public static PacketBuffer Build(PacketBufferPool pool, IPAddress source, ushort sourcePort, IPAddress destination, ushort port, uint isn = 1000)
    {
        var endpoints = new TcpEndpoints(TcpAddress.FromIPAddress(source), sourcePort, TcpAddress.FromIPAddress(destination), port);
        var header = new TcpHeader
        {
            SourcePort = sourcePort,
            DestinationPort = port,
            SequenceNumber = new SeqNum(isn),
            Flags = TcpFlags.Syn,
            Window = 64240,
            MaxSegmentSize = 1240,
        };
        var buffer = pool.Rent();
        var span = buffer.Append(20 + header.Length);
        var length = header.Emit(span[20..]);
        endpoints.FillChecksum(span.Slice(20, length));
        new Ipv4Header(Ipv4Header.ToValue(source), Ipv4Header.ToValue(destination), IpProtocol.Tcp, 64, length).Emit(span);
        return buffer;
    }
}
