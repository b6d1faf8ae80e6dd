using System.Net;

namespace TsNet;

/// <summary>
/// One mapping of a <see cref="PortPublication"/> once bound: where it listens and what it has carried. The counters
/// are live and may be read from any thread.
/// </summary>
public sealed class PublishedPort
{
    private long _totalSessions;
    private long _expiredSessions;
    private long _droppedDatagrams;
    private int _activeSessions;

    internal PublishedPort(PortMapping mapping, IPEndPoint endPoint)
    {
        Mapping = mapping;
        EndPoint = endPoint;
    }

    /// <summary>The mapping this port serves.</summary>
    public PortMapping Mapping { get; }

    /// <summary>
    /// Where it listens: the host endpoint with the port actually bound (<see cref="PortMappingDirection.HostToTailnet"/>,
    /// also when the mapping asked for port 0), or the node's overlay address and port
    /// (<see cref="PortMappingDirection.TailnetToHost"/>).
    /// </summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>TCP connections being relayed, or live UDP sessions (one per remote sender).</summary>
    public int ActiveSessions => Volatile.Read(ref _activeSessions);

    /// <summary>TCP connections accepted, or UDP sessions opened, since the port was published.</summary>
    public long TotalSessions => Interlocked.Read(ref _totalSessions);

    /// <summary>UDP sessions closed because neither side sent anything for <see cref="TailnetLimits.PublishedUdpSessionIdle"/>.</summary>
    public long ExpiredSessions => Interlocked.Read(ref _expiredSessions);

    /// <summary>
    /// UDP datagrams from a new sender dropped because the port already had
    /// <see cref="TailnetLimits.PublishedUdpMaxSessions"/> sessions (or no overlay/host socket could be opened for it).
    /// </summary>
    public long DroppedDatagrams => Interlocked.Read(ref _droppedDatagrams);

    /// <inheritdoc/>
    public override string ToString() => $"{Mapping} on {EndPoint}";

    internal void SessionOpened()
    {
        Interlocked.Increment(ref _totalSessions);
        Interlocked.Increment(ref _activeSessions);
    }

    internal void SessionClosed() => Interlocked.Decrement(ref _activeSessions);

    internal void SessionExpired() => Interlocked.Increment(ref _expiredSessions);

    internal void DatagramDropped() => Interlocked.Increment(ref _droppedDatagrams);
}
