using System.Net.Sockets;
using System.Threading.Channels;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;

namespace TsNet.Underlay;

/// <summary>
/// A network of several nodes in one process, for tests: each node's underlay gets a port on the hub and is reached
/// at <c>127.0.0.1:port</c> (or <c>[::1]:port</c>), so peer endpoints are written as for loopback UDP. The
/// <see cref="Link"/> knobs lose, reorder, delay and duplicate datagrams with a seeded random source; a delayed
/// datagram is delivered when the hub's <see cref="TimeProvider"/> reaches its time (with a manual clock: when the
/// test advances it). In-flight datagrams are bounded (<see cref="InMemoryLinkSettings.MaxInFlight"/>).
/// </summary>
/// <remarks>
/// One lock serialises the hub (the random source, the port table, the in-flight queue): this is a test transport
/// between loops of one process, not a production path, and a lock keeps its behaviour reproducible per seed.
/// </remarks>
internal sealed class InMemoryUnderlayHub : IDisposable
{
    /// <summary>First port handed out for a node that asks for port 0.</summary>
    public const int FirstEphemeralPort = 40000;

    private readonly Lock _lock = new();
    private readonly Dictionary<int, InMemoryUnderlay> _nodes = [];
    private readonly HashSet<(int Low, int High)> _blocked = [];
    private readonly PriorityQueue<InFlightDatagram, (long Due, long Sequence)> _inFlight = new();
    private readonly Random _random;
    private readonly TimeProvider _timeProvider;
    private readonly long _origin;
    private readonly ITimer _timer;
    private long _sequence;
    private long _armedFor = long.MaxValue;
    private int _nextPort = FirstEphemeralPort;
    private bool _disposed;

    public InMemoryUnderlayHub(TimeProvider timeProvider, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        _origin = timeProvider.GetTimestamp();
        _random = new Random(seed);
        _timer = timeProvider.CreateTimer(_ => DeliverDue(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The clock delays run on; the nodes on the hub must use the same one.</summary>
    public TimeProvider TimeProvider => _timeProvider;

    /// <summary>How the hub treats datagrams from now on (may change while nodes talk).</summary>
    public InMemoryLinkSettings Link { get; set; } = InMemoryLinkSettings.Perfect;

    /// <summary>Datagrams handed to the hub.</summary>
    public long Sent { get; private set; }

    /// <summary>Datagrams lost on purpose (<see cref="InMemoryLinkSettings.LossRate"/>).</summary>
    public long Lost { get; private set; }

    /// <summary>Datagrams held back to be overtaken.</summary>
    public long Reordered { get; private set; }

    /// <summary>Datagrams delivered twice.</summary>
    public long Duplicated { get; private set; }

    /// <summary>Datagrams that waited for the clock (delay or reorder).</summary>
    public long Delayed { get; private set; }

    /// <summary>Datagrams dropped because their two ports are cut off from each other (<see cref="Block"/>).</summary>
    public long Blocked { get; private set; }

    /// <summary>Datagrams handed to a node (duplicates count twice).</summary>
    public long Delivered { get; private set; }

    /// <summary>Datagrams to a port no node holds, or dropped because too many were in flight.</summary>
    public long Undeliverable { get; private set; }

    /// <summary>Datagrams waiting for their delivery time.</summary>
    public int InFlight
    {
        get
        {
            lock (_lock)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>Ports held by nodes now.</summary>
    public IReadOnlyCollection<int> Ports
    {
        get
        {
            lock (_lock)
            {
                var ports = new int[_nodes.Count];
                _nodes.Keys.CopyTo(ports, 0);
                return ports;
            }
        }
    }

    /// <summary>
    /// Gives a node a port (0 = the next free one) and an underlay on it; received datagrams are copied into buffers
    /// of <paramref name="pool"/> and written to <paramref name="inbound"/>.
    /// </summary>
    /// <exception cref="SocketException">The port is taken (<see cref="SocketError.AddressAlreadyInUse"/>), like a UDP bind.</exception>
    public InMemoryUnderlay Attach(int port, PacketBufferPool pool, ChannelWriter<UnderlayDatagram> inbound, Action<ReadOnlySpan<byte>> onReceived)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, ushort.MaxValue);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (port == 0)
            {
                while (_nodes.ContainsKey(_nextPort))
                {
                    _nextPort++;
                }

                port = _nextPort++;
            }
            else if (_nodes.ContainsKey(port))
            {
                throw new SocketException((int)SocketError.AddressAlreadyInUse);
            }

            var underlay = new InMemoryUnderlay(this, port, pool, inbound, onReceived);
            _nodes.Add(port, underlay);
            return underlay;
        }
    }

    /// <summary>
    /// Cuts the link between two ports in both directions (a firewall dropping silently): datagrams between them are
    /// counted in <see cref="Blocked"/> and go nowhere, until <see cref="Unblock"/>. Other ports still reach both.
    /// </summary>
    public void Block(int portA, int portB)
    {
        lock (_lock)
        {
            _blocked.Add(Pair(portA, portB));
        }
    }

    /// <summary>Restores the link between two ports cut by <see cref="Block"/>.</summary>
    public void Unblock(int portA, int portB)
    {
        lock (_lock)
        {
            _blocked.Remove(Pair(portA, portB));
        }
    }

    private static (int Low, int High) Pair(int a, int b) => a <= b ? (a, b) : (b, a);

    internal void Detach(InMemoryUnderlay underlay)
    {
        lock (_lock)
        {
            if (_nodes.TryGetValue(underlay.Port, out var current) && current == underlay)
            {
                _nodes.Remove(underlay.Port);
            }
        }
    }

    /// <summary>Carries one datagram from <paramref name="sender"/> to the node at <paramref name="destination"/> under the link's knobs.</summary>
    internal bool Transmit(InMemoryUnderlay sender, in UnderlayAddress destination, ReadOnlySpan<byte> datagram)
    {
        lock (_lock)
        {
            Sent++;
            if (_disposed || destination.Vni != 0 || !IsLoopback(destination) || !_nodes.TryGetValue(destination.Port, out var target))
            {
                Undeliverable++;
                return false;
            }

            if (datagram.Length > target.Pool.BufferSize - MessageLayout.TransportHeaderSize)
            {
                // Larger than the receiver's buffers: a real socket would truncate it; drop it instead.
                Undeliverable++;
                return false;
            }

            if (_blocked.Count > 0 && _blocked.Contains(Pair(sender.Port, destination.Port)))
            {
                Blocked++;
                return true;
            }

            var link = Link;
            if (link.LossRate > 0 && _random.NextDouble() < link.LossRate)
            {
                Lost++;
                return true;
            }

            var copies = link.DuplicateRate > 0 && _random.NextDouble() < link.DuplicateRate ? 2 : 1;
            if (copies == 2)
            {
                Duplicated++;
            }

            var delay = link.Delay.Ticks;
            if (link.ReorderRate > 0 && _random.NextDouble() < link.ReorderRate)
            {
                Reordered++;
                delay += link.ReorderDelay.Ticks;
            }

            // The receiver sees the sender's port on the loopback address of the family it was sent to.
            var source = destination.IsIPv6 ? LoopbackV6(sender.Port) : LoopbackV4(sender.Port);
            for (var i = 0; i < copies; i++)
            {
                if (delay <= 0)
                {
                    Delivered++;
                    target.Deliver(datagram, source);
                    continue;
                }

                if (_inFlight.Count >= link.MaxInFlight)
                {
                    Undeliverable++;
                    continue;
                }

                var buffer = target.Pool.Rent(MessageLayout.TransportHeaderSize);
                datagram.CopyTo(buffer.Array.AsSpan(buffer.Offset));
                buffer.SetLength(datagram.Length);
                var due = Now + delay;
                _inFlight.Enqueue(new InFlightDatagram(target, buffer, source), (due, _sequence++));
                Delayed++;
                Arm(due);
            }

            return true;
        }
    }

    private long Now => _timeProvider.GetElapsedTime(_origin).Ticks;

    private void Arm(long due)
    {
        if (due >= _armedFor)
        {
            return;
        }

        _armedFor = due;
        _timer.Change(TimeSpan.FromTicks(Math.Max(0, due - Now)), Timeout.InfiniteTimeSpan);
    }

    private void DeliverDue()
    {
        lock (_lock)
        {
            _armedFor = long.MaxValue;
            var now = Now;
            while (_inFlight.TryPeek(out var item, out var key) && key.Due <= now)
            {
                _inFlight.Dequeue();
                if (_disposed || !_nodes.TryGetValue(item.Target.Port, out var current) || current != item.Target)
                {
                    // The node went away while its datagram was on the wire.
                    Undeliverable++;
                    item.Buffer.Return();
                    continue;
                }

                Delivered++;
                item.Target.Deliver(item.Buffer, item.Source);
            }

            if (_inFlight.TryPeek(out _, out var next))
            {
                Arm(next.Due);
            }
        }
    }

    private static bool IsLoopback(in UnderlayAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        var length = address.WriteAddress(bytes);
        return length == 4
            ? bytes[0] == 127
            : bytes[..15].IndexOfAnyExcept((byte)0) < 0 && bytes[15] == 1;
    }

    private static UnderlayAddress LoopbackV4(int port) => UnderlayAddress.FromIPv4([127, 0, 0, 1], (ushort)port);

    private static UnderlayAddress LoopbackV6(int port) => UnderlayAddress.FromIPv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], (ushort)port);

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            while (_inFlight.TryDequeue(out var item, out _))
            {
                item.Buffer.Return();
            }
        }

        _timer.Dispose();
    }

    private readonly record struct InFlightDatagram(InMemoryUnderlay Target, PacketBuffer Buffer, UnderlayAddress Source);
}
