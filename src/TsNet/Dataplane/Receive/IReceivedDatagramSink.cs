using TsNet.WireGuard.Protocol;

namespace TsNet.Dataplane.Receive;

/// <summary>Where <see cref="UdpBatchReceiver"/> hands each datagram (copied out before the next receive).</summary>
internal interface IReceivedDatagramSink
{
    /// <summary>One datagram from <paramref name="source"/>; the bytes are valid during this call only.</summary>
    void Deliver(ReadOnlySpan<byte> datagram, in UnderlayAddress source);
}
