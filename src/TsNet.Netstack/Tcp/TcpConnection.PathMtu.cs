namespace TsNet.Netstack.Tcp;

// Path MTU discovery (RFC 1191 / RFC 8201) as it reaches a live connection: the netstack learned from an ICMP
// "fragmentation needed" / "packet too big" that packets to our peer must be smaller.
internal sealed partial class TcpConnection
{
    /// <summary>
    /// Lowers the segment size so whole IP packets fit <paramref name="pathMtu"/>. New segments and every
    /// retransmission from now on are cut to the new size (the send buffer is re-segmented on output); the segments
    /// the ICMP message complained about are recovered by the usual loss detection. Never raises the size.
    /// </summary>
    public void OnPathMtu(int pathMtu)
    {
        var ipHeader = Endpoints.IsIpv6 ? 40 : 20;
        var mss = Math.Max(MinPeerMss, pathMtu - ipHeader - TcpHeader.MinLength);
        if (mss < _sendMssBase)
        {
            _sendMssBase = mss;
            Counters.PathMtuReductions++;
        }
    }
}
