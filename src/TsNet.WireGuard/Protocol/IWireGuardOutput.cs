using TsNet.Packets.Buffers;

namespace TsNet.WireGuard.Protocol;

/// <summary>Where the sans-IO core puts its results; the owner (the dataplane loop) implements it.</summary>
internal interface IWireGuardOutput
{
    /// <summary>Send <paramref name="datagram"/> to <paramref name="destination"/> over the underlay. Takes ownership of the buffer.</summary>
    void SendDatagram(in UnderlayAddress destination, PacketBuffer datagram);

    /// <summary>A decrypted, authenticated inner IP packet from <paramref name="peer"/>. Takes ownership of the buffer.</summary>
    void DeliverPacket(WireGuardPeer peer, PacketBuffer packet);
}
