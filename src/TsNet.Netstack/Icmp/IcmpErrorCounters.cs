namespace TsNet.Netstack;

/// <summary>
/// Counters of the ICMP errors one netstack sends and acts on. The owning loop writes them; anyone may read them at
/// any time.
/// </summary>
internal sealed class IcmpErrorCounters
{
    private long _unreachableSent;
    private long _rateLimited;
    private long _suppressed;
    private long _portUnreachableReceived;
    private long _packetTooBigReceived;

    /// <summary>Destination unreachable (port unreachable) messages sent.</summary>
    public long DestinationUnreachableSent => Interlocked.Read(ref _unreachableSent);

    /// <summary>Errors not sent because the token bucket was empty.</summary>
    public long RateLimited => Interlocked.Read(ref _rateLimited);

    /// <summary>Errors not sent because the rules forbid one (RFC 1122 §3.2.2, RFC 4443 §2.4(e)): the invoking packet
    /// was an ICMP error, a non-first fragment, sent to a broadcast or multicast address, or from an address that
    /// does not name a single host.</summary>
    public long Suppressed => Interlocked.Read(ref _suppressed);

    /// <summary>Port unreachable messages received about a UDP datagram we sent (ICMPv4 3/3, ICMPv6 1/4).</summary>
    public long PortUnreachableReceived => Interlocked.Read(ref _portUnreachableReceived);

    /// <summary>"Fragmentation needed" (ICMPv4 3/4) and "packet too big" (ICMPv6 2) messages acted on.</summary>
    public long PacketTooBigReceived => Interlocked.Read(ref _packetTooBigReceived);

    internal void CountUnreachableSent() => Interlocked.Increment(ref _unreachableSent);

    internal void CountRateLimited() => Interlocked.Increment(ref _rateLimited);

    internal void CountSuppressed() => Interlocked.Increment(ref _suppressed);

    internal void CountPortUnreachableReceived() => Interlocked.Increment(ref _portUnreachableReceived);

    internal void CountPacketTooBigReceived() => Interlocked.Increment(ref _packetTooBigReceived);
}
