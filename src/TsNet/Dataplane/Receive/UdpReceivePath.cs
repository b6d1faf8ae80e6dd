namespace TsNet.Dataplane.Receive;

/// <summary>How <see cref="UdpUnderlay"/> takes datagrams off its sockets.</summary>
internal enum UdpReceivePath
{
    /// <summary>One <c>ReceiveFromAsync</c> per datagram, one task per socket (any OS).</summary>
    PerDatagram,

    /// <summary>One thread, <c>recvmmsg</c> with UDP GRO where the kernel has it (64-bit Linux).</summary>
    Batched,
}
