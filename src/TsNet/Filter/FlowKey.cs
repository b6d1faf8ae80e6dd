namespace TsNet.Filter;

/// <summary>
/// A flow this node opened, from this node's side: protocol, local and remote address and port. For ICMP echo the
/// local "port" is the echo identifier and the remote one 0.
/// </summary>
internal readonly record struct FlowKey(byte Protocol, bool IsV6, UInt128 Local, UInt128 Remote, ushort LocalPort, ushort RemotePort)
{
    /// <summary>The flow an outbound packet belongs to.</summary>
    public static FlowKey Outbound(in PacketSummary packet) => packet.IsIcmp
        ? new(packet.Protocol, packet.IsV6, packet.Source, packet.Destination, packet.IcmpEchoId, 0)
        : new(packet.Protocol, packet.IsV6, packet.Source, packet.Destination, packet.SourcePort, packet.DestinationPort);

    /// <summary>The flow an inbound packet would be a reply to.</summary>
    public static FlowKey Reply(in PacketSummary packet) => packet.IsIcmp
        ? new(packet.Protocol, packet.IsV6, packet.Destination, packet.Source, packet.IcmpEchoId, 0)
        : new(packet.Protocol, packet.IsV6, packet.Destination, packet.Source, packet.DestinationPort, packet.SourcePort);
}
