namespace TsNet.Netstack;

/// <summary>Outcome of <see cref="NetstackCore.SendUdp(UdpSocketState, EndpointValue, ReadOnlySpan{byte}, long)"/>.</summary>
internal enum UdpSendResult
{
    /// <summary>The datagram is queued for the dataplane.</summary>
    Sent,

    /// <summary>Destination port 0 or an unspecified destination address.</summary>
    InvalidDestination,

    /// <summary>No local address of the destination's family (or the socket is bound to an address of the other family).</summary>
    NoSourceAddress,

    /// <summary>The datagram does not fit the MTU; TsNet never fragments.</summary>
    TooBig,

    /// <summary>The outbound queue was full; the datagram was dropped and counted.</summary>
    OutboundQueueFull,

    /// <summary>The socket is closed.</summary>
    SocketClosed,
}
