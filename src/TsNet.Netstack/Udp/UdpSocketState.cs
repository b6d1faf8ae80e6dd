using System.Threading.Channels;

namespace TsNet.Netstack;

/// <summary>
/// One bound UDP socket inside a <see cref="NetstackCore"/>: its local binding, its receive queue and its counters.
/// </summary>
/// <remarks>
/// The receive queue is the one place where the core hands data to another owner: a bounded channel the core writes
/// (never waiting — a full queue drops and counts) and the application reads. It is a plain channel rather than a
/// queue behind the loop's command channel so that a receive finds queued datagrams without a round trip through
/// the loop, and so that a cancelled receive never loses a datagram (a channel hands an item to a waiting reader
/// only if that reader can still take it). Closing completes the channel with the reason and returns every queued
/// buffer to its pool; closing is idempotent and safe from any thread.
/// </remarks>
internal sealed class UdpSocketState
{
    private readonly Channel<UdpReceivedDatagram> _receive;
    private long _datagramsReceived;
    private long _datagramsDropped;
    private long _portUnreachableReceived;
    private volatile bool _closed;
    private Exception? _closeReason;

    public UdpSocketState(bool isAnyAddress, UInt128 localAddress, bool isIpv6, ushort localPort, int receiveQueueCapacity)
    {
        IsAnyAddress = isAnyAddress;
        LocalAddress = localAddress;
        IsIpv6 = isIpv6;
        LocalPort = localPort;
        _receive = Channel.CreateBounded<UdpReceivedDatagram>(new BoundedChannelOptions(receiveQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; the core drops and counts
            AllowSynchronousContinuations = false,  // a waiting receive never runs on the loop's task
        });
    }

    /// <summary>True when bound to every address of the node (both families).</summary>
    public bool IsAnyAddress { get; }

    /// <summary>The bound address (meaningless when <see cref="IsAnyAddress"/>).</summary>
    public UInt128 LocalAddress { get; }

    /// <summary>Family of <see cref="LocalAddress"/> (meaningless when <see cref="IsAnyAddress"/>).</summary>
    public bool IsIpv6 { get; }

    /// <summary>The bound port.</summary>
    public ushort LocalPort { get; }

    /// <summary>Datagrams for the application, oldest first.</summary>
    public ChannelReader<UdpReceivedDatagram> Receive => _receive.Reader;

    /// <summary>True once the socket was closed (unbound, or its netstack stopped).</summary>
    public bool IsClosed => _closed;

    /// <summary>Why the socket was first closed (null while open).</summary>
    public Exception? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Datagrams queued for the application.</summary>
    public long DatagramsReceived => Interlocked.Read(ref _datagramsReceived);

    /// <summary>Datagrams dropped because the receive queue was full.</summary>
    public long DatagramsDropped => Interlocked.Read(ref _datagramsDropped);

    /// <summary>Port unreachable errors received about datagrams this socket sent. Counted only: like a Linux socket
    /// without <c>IP_RECVERR</c> that is not connected, the socket keeps working.</summary>
    public long PortUnreachableReceived => Interlocked.Read(ref _portUnreachableReceived);

    /// <summary>True when a datagram for <paramref name="address"/> (of family <paramref name="isIpv6"/>) matches this binding.</summary>
    public bool Accepts(UInt128 address, bool isIpv6) => IsAnyAddress || (IsIpv6 == isIpv6 && LocalAddress == address);

    /// <summary>Queues a datagram; false when the queue is full or closed (the caller keeps the buffer).</summary>
    internal bool TryEnqueue(UdpReceivedDatagram datagram)
    {
        if (!_receive.Writer.TryWrite(datagram))
        {
            return false;
        }

        Interlocked.Increment(ref _datagramsReceived);
        return true;
    }

    internal void CountDropped() => Interlocked.Increment(ref _datagramsDropped);

    internal void CountPortUnreachable() => Interlocked.Increment(ref _portUnreachableReceived);

    /// <summary>Completes the receive queue with <paramref name="reason"/> and returns the buffers still in it.</summary>
    internal void Close(Exception reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        _closed = true;
        _receive.Writer.TryComplete(reason);
        while (_receive.Reader.TryRead(out var datagram))
        {
            datagram.Payload.Return();
        }
    }
}
