using Microsoft.Extensions.Logging;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Underlay;

/// <summary>
/// UDP relay paths as a layer over another underlay: datagrams to a relayed destination (relay address + VNI) leave
/// Geneve-framed to the relay, Geneve-framed datagrams from a configured relay are unwrapped (or, for the bind
/// handshake, consumed), and the <see cref="RelayClientCore"/> keeps each path bound on the dataplane's clock. Until a
/// path is bound, datagrams to its peer are dropped and counted (WireGuard's own handshake retry resends them);
/// nothing is queued, so nothing here grows. Direct datagrams pass through untouched.
/// </summary>
internal sealed partial class RelayUnderlay : IUnderlay, IRelayClientOutput
{
    private readonly ILogger _logger;
    private byte[] _scratch = [];

    public RelayUnderlay(IUnderlay inner, RelayClientCore relay, ILogger logger)
    {
        Inner = inner;
        Relay = relay;
        _logger = logger;
    }

    /// <summary>The transport underneath (replaced when the node rebinds; the relay state stays).</summary>
    public IUnderlay Inner { get; set; }

    /// <summary>The relay paths' sans-IO state.</summary>
    public RelayClientCore Relay { get; }

    public int Port => Inner.Port;

    public long InboundDrops => Inner.InboundDrops;

    public long SendDrops => Inner.SendDrops;

    public IEnumerable<Task> Tasks => Inner.Tasks;

    public long NextDeadline => Math.Min(Inner.NextDeadline, Relay.NextDeadline);

    public void Start() => Inner.Start();

    public void Send(in UnderlayAddress destination, ReadOnlySpan<byte> datagram)
    {
        if (destination.Vni == 0)
        {
            Inner.Send(destination, datagram);
            return;
        }

        if (Relay.TryGetRelay(destination, out var server))
        {
            var framed = Frame(destination.Vni, datagram);
            Inner.Send(server, framed);
        }
    }

    public void Send(in UnderlayAddress destination, PacketBuffer datagram)
    {
        if (destination.Vni == 0)
        {
            Inner.Send(destination, datagram);
            return;
        }

        if (!Relay.TryGetRelay(destination, out var server))
        {
            return;
        }

        if (datagram.Headroom >= GeneveHeader.Length)
        {
            // Buffers keep headroom for this header: frame in place, no copy.
            new GeneveHeader(0, false, GeneveHeader.ProtocolWireGuard, destination.Vni).Encode(datagram.Prepend(GeneveHeader.Length));
            Inner.Send(server, datagram);
        }
        else
        {
            Inner.Send(server, Frame(destination.Vni, datagram.Span));
        }
    }

    public void Flush() => Inner.Flush();

    public UnderlayReceiveResult Receive(ref UnderlayDatagram datagram, long now)
    {
        var result = Inner.Receive(ref datagram, now);
        if (result == UnderlayReceiveResult.Consumed || Relay.Paths.Count == 0)
        {
            return result;
        }

        switch (Relay.Receive(datagram.Buffer.Span, datagram.Source, now, this, out var source))
        {
            case RelayClientReceiveResult.WireGuard:
                datagram.Buffer.TrimFront(GeneveHeader.Length);
                datagram = new UnderlayDatagram(datagram.Buffer, source);
                return UnderlayReceiveResult.Unwrapped;
            case RelayClientReceiveResult.Consumed:
                datagram.Buffer.Return();
                return UnderlayReceiveResult.Consumed;
            default:
                return result;
        }
    }

    public void Poll(long now)
    {
        if (Inner.NextDeadline <= now)
        {
            Inner.Poll(now);
        }

        if (Relay.NextDeadline <= now)
        {
            Relay.Poll(now, this);
        }
    }

    /// <summary>Relay drop and failure counters for the status snapshot (loop task only).</summary>
    public void AddCounters(IDictionary<string, long> drops)
    {
        DropCounters.AddIfNonZero(drops, "relay.NotBound", Relay.NotBoundDrops);
        DropCounters.AddIfNonZero(drops, "relay.UnknownPath", Relay.UnknownPathDrops);
        DropCounters.AddIfNonZero(drops, "relay.Ignored", Relay.Ignored);
        DropCounters.AddIfNonZero(drops, "relay.HandshakeFailed", Relay.HandshakeFailures);
    }

    void IRelayClientOutput.SendToRelay(in UnderlayAddress server, ReadOnlySpan<byte> datagram) => Inner.Send(server, datagram);

    void IRelayClientOutput.PathLost(RelayClientPath path) => LogRelayPathLost(_logger, path.Endpoint.ToString());

    void IRelayClientOutput.PathUnusable(RelayClientPath path, string reason) => LogRelayPathUnusable(_logger, path.Endpoint.ToString(), reason);

    public ValueTask DisposeAsync() => Inner.DisposeAsync();

    /// <summary>Copies a WireGuard datagram behind a Geneve header into the reused scratch buffer (rare: buffers keep headroom).</summary>
    private ReadOnlySpan<byte> Frame(uint vni, ReadOnlySpan<byte> datagram)
    {
        var needed = GeneveHeader.Length + datagram.Length;
        if (_scratch.Length < needed)
        {
            _scratch = new byte[Math.Max(needed, PacketBufferPool.DefaultBufferSize)];
        }

        new GeneveHeader(0, false, GeneveHeader.ProtocolWireGuard, vni).Encode(_scratch);
        datagram.CopyTo(_scratch.AsSpan(GeneveHeader.Length));
        return _scratch.AsSpan(0, needed);
    }

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Relay path {Path} lost: the relay stopped answering binds; traffic to the peer is dropped until it binds again")]
    private static partial void LogRelayPathLost(ILogger logger, string path);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Relay path {Path} cannot bind: {Reason}")]
    private static partial void LogRelayPathUnusable(ILogger logger, string path, string reason);
}
