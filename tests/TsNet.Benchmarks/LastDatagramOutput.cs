using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;

namespace TsNet.Benchmarks;

/// <summary>
/// A WireGuard output for handshake benchmarks that keeps only the last datagram sent (to hand to the other end) and
/// returns every buffer it does not pass on.
/// </summary>
internal sealed class LastDatagramOutput : IWireGuardOutput
{
    private PacketBuffer? _last;

    public void SendDatagram(in UnderlayAddress destination, PacketBuffer datagram)
    {
        _last?.Return();
        _last = datagram;
    }

    public void DeliverPacket(WireGuardPeer peer, PacketBuffer packet) => packet.Return();

    public PacketBuffer Take()
    {
        var last = _last ?? throw new InvalidOperationException("Nothing was sent.");
        _last = null;
        return last;
    }

    public void Clear()
    {
        _last?.Return();
        _last = null;
    }
}
