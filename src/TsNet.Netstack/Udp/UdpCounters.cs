namespace TsNet.Netstack;

/// <summary>
/// UDP counters of one netstack (drops are in <see cref="NetstackCounters"/> by reason). The owning loop writes them;
/// anyone may read them at any time.
/// </summary>
internal sealed class UdpCounters
{
    private long _datagramsReceived;
    private long _datagramsSent;

    /// <summary>Datagrams put into a socket's receive queue.</summary>
    public long DatagramsReceived => Interlocked.Read(ref _datagramsReceived);

    /// <summary>Datagrams queued for the dataplane.</summary>
    public long DatagramsSent => Interlocked.Read(ref _datagramsSent);

    internal void CountReceived() => Interlocked.Increment(ref _datagramsReceived);

    internal void CountSent() => Interlocked.Increment(ref _datagramsSent);
}
