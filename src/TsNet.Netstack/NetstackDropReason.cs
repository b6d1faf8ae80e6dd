namespace TsNet.Netstack;

/// <summary>Why the netstack dropped a packet; each reason has its own counter in <see cref="NetstackCounters"/>.</summary>
internal enum NetstackDropReason
{
    /// <summary>Shorter than its IP header or its IP length field says.</summary>
    Truncated,

    /// <summary>Structurally invalid: unknown IP version, bad header length, bad IPv6 extension chain, short ICMP.</summary>
    Malformed,

    /// <summary>IPv4 header or ICMP checksum failed.</summary>
    BadChecksum,

    /// <summary>An IPv4 or IPv6 fragment: TsNet does not reassemble (the tunnel MTU keeps its own traffic unfragmented).</summary>
    Fragment,

    /// <summary>Addressed to an address that is not one of ours.</summary>
    NotOurAddress,

    /// <summary>A transport protocol the netstack does not handle (yet).</summary>
    UnsupportedProtocol,

    /// <summary>An ICMP message type the netstack does not act on.</summary>
    UnhandledIcmp,

    /// <summary>An echo request from an unspecified, broadcast or multicast source, which must not be answered.</summary>
    InvalidSource,

    /// <summary>An echo reply that matches no pending echo request.</summary>
    UnmatchedEchoReply,

    /// <summary>A reply would not fit the MTU or a pool buffer.</summary>
    TooBig,

    /// <summary>The outbound queue was full.</summary>
    OutboundQueueFull,

    /// <summary>The echo reply queue was full.</summary>
    EchoReplyQueueFull,

    /// <summary>A UDP datagram for a port no socket is bound to (answered with ICMP port unreachable, rate permitting).</summary>
    NoUdpSocket,

    /// <summary>A UDP datagram for a socket whose receive queue was full.</summary>
    UdpReceiveQueueFull,

    /// <summary>An ICMP error whose quoted packet is malformed or was not sent by us.</summary>
    InvalidIcmpError,

    /// <summary>The channel to the WireGuard dataplane was full or closed (counted by the loop).</summary>
    ToWireGuardFull,

    /// <summary>A TCP segment for a port with no listener and no connection (a RST went back unless it was one).</summary>
    NoTcpListener,

    /// <summary>A SYN arrived while the listener's backlog was full (dropped so the peer retries).</summary>
    TcpBacklogFull,

    /// <summary>A SYN arrived while the node had its maximum of TCP connections.</summary>
    TcpConnectionLimit,
}
