using TsNet.Packets.Buffers;

namespace TsNet.Netstack;

/// <summary>
/// A datagram waiting in a UDP socket's receive queue: the pooled buffer it arrived in, trimmed to the UDP payload
/// (zero-copy), and the endpoint that sent it. Whoever takes it from the queue owns the buffer and returns it.
/// </summary>
/// <param name="Payload">The inbound packet's buffer; its <see cref="PacketBuffer.Span"/> is the UDP payload.</param>
/// <param name="Remote">Source address and port.</param>
internal readonly record struct UdpReceivedDatagram(PacketBuffer Payload, EndpointValue Remote);
