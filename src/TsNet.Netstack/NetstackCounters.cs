namespace TsNet.Netstack;

/// <summary>
/// Packet counters of one netstack. The owning loop writes them; anyone may read them at any time (reads of a
/// 64-bit counter are atomic here, values may lag by a packet).
/// </summary>
internal sealed class NetstackCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<NetstackDropReason>().Length];
    private long _inboundPackets;
    private long _outboundPackets;
    private long _echoRequestsAnswered;
    private long _echoRequestsSent;
    private long _echoRepliesReceived;

    /// <summary>Packets handed to <see cref="NetstackCore.ProcessInbound"/>.</summary>
    public long InboundPackets => Interlocked.Read(ref _inboundPackets);

    /// <summary>Packets queued for the dataplane.</summary>
    public long OutboundPackets => Interlocked.Read(ref _outboundPackets);

    /// <summary>Echo requests answered with a reply.</summary>
    public long EchoRequestsAnswered => Interlocked.Read(ref _echoRequestsAnswered);

    /// <summary>Echo requests we sent.</summary>
    public long EchoRequestsSent => Interlocked.Read(ref _echoRequestsSent);

    /// <summary>Echo replies matched to a request of ours.</summary>
    public long EchoRepliesReceived => Interlocked.Read(ref _echoRepliesReceived);

    /// <summary>All drops, whatever the reason.</summary>
    public long TotalDropped
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _drops.Length; i++)
            {
                total += Interlocked.Read(ref _drops[i]);
            }

            return total;
        }
    }

    /// <summary>Drops for one reason.</summary>
    public long Dropped(NetstackDropReason reason) => Interlocked.Read(ref _drops[(int)reason]);

    internal void CountDrop(NetstackDropReason reason) => Interlocked.Increment(ref _drops[(int)reason]);

    internal void CountInbound() => Interlocked.Increment(ref _inboundPackets);

    internal void CountOutbound() => Interlocked.Increment(ref _outboundPackets);

    internal void CountEchoRequestAnswered() => Interlocked.Increment(ref _echoRequestsAnswered);

    internal void CountEchoRequestSent() => Interlocked.Increment(ref _echoRequestsSent);

    internal void CountEchoReplyReceived() => Interlocked.Increment(ref _echoRepliesReceived);

    /// <summary>RSTs sent for segments that matched no connection.</summary>
    public long TcpResetsSent => Interlocked.Read(ref _tcpResetsSent);

    internal void CountTcpResetSent() => Interlocked.Increment(ref _tcpResetsSent);

    private long _tcpResetsSent;
}
