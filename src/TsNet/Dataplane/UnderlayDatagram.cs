using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;

namespace TsNet.Dataplane;

/// <summary>A datagram received from the underlay and who sent it.</summary>
internal readonly record struct UnderlayDatagram(PacketBuffer Buffer, UnderlayAddress Source);
