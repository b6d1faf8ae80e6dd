using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;

namespace TsNet.Benchmarks.Soak;

/// <summary>
/// A layer over a node's UDP underlay that loses and reorders outgoing datagrams, seeded: each datagram is dropped
/// with <see cref="LinkImpairment.LossRate"/>, else held back with <see cref="LinkImpairment.ReorderRate"/> for
/// <see cref="LinkImpairment.ReorderDelay"/> (later datagrams overtake it). Held datagrams are copied into a fixed set
/// of preallocated slots; when all are busy the datagram goes out at once (nothing here grows). Runs on the dataplane
/// loop like every underlay, so it needs no locks; counters are read from other threads, hence the interlocked reads.
/// </summary>
internal sealed class LossyUnderlay : IUnderlay
{
    /// <summary>Datagrams held back at once, at most.</summary>
    private const int HeldSlots = 64;

    /// <summary>Largest datagram a slot holds (a full 1420-byte MTU packet plus WireGuard and relay headers fits).</summary>
    private const int SlotBytes = 2048;

    private readonly IUnderlay _inner;
    private readonly LinkImpairment _impairment;
    private readonly Random _random;
    private readonly long _reorderDelayTicks;
    private readonly byte[][] _slotBytes = new byte[HeldSlots][];
    private readonly int[] _slotLength = new int[HeldSlots];
    private readonly UnderlayAddress[] _slotDestination = new UnderlayAddress[HeldSlots];

    // Core time the slot's datagram is due; 0 = held but not yet given a time (the next Poll does), NotArmed = free.
    private readonly long[] _slotDue = new long[HeldSlots];
    private long _dropped;
    private long _reordered;
    private long _passed;

    public LossyUnderlay(IUnderlay inner, LinkImpairment impairment, int seed)
    {
        _inner = inner;
        _impairment = impairment;
        _random = new Random(seed);
        _reorderDelayTicks = impairment.ReorderDelay.Ticks;
        for (var i = 0; i < HeldSlots; i++)
        {
            _slotBytes[i] = new byte[SlotBytes];
            _slotDue[i] = Timestamps.NotArmed;
        }
    }

    /// <summary>Datagrams this layer dropped on purpose.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Datagrams this layer held back (and sent later).</summary>
    public long Reordered => Interlocked.Read(ref _reordered);

    /// <summary>Datagrams passed to the socket layer at once.</summary>
    public long Passed => Interlocked.Read(ref _passed);

    public int Port => _inner.Port;

    public long InboundDrops => _inner.InboundDrops;

    public long SendDrops => _inner.SendDrops;

    public IEnumerable<Task> Tasks => _inner.Tasks;

    public long NextDeadline
    {
        get
        {
            var next = _inner.NextDeadline;
            for (var i = 0; i < HeldSlots; i++)
            {
                next = Math.Min(next, _slotDue[i]);
            }

            return next;
        }
    }

    public void Start() => _inner.Start();

    public void Send(in UnderlayAddress destination, ReadOnlySpan<byte> datagram)
    {
        if (Impair(destination, datagram))
        {
            return;
        }

        Interlocked.Increment(ref _passed);
        _inner.Send(destination, datagram);
    }

    public void Send(in UnderlayAddress destination, PacketBuffer datagram)
    {
        if (Impair(destination, datagram.Span))
        {
            return;
        }

        Interlocked.Increment(ref _passed);
        _inner.Send(destination, datagram);
    }

    public void Flush() => _inner.Flush();

    public UnderlayReceiveResult Receive(ref UnderlayDatagram datagram, long now) => _inner.Receive(ref datagram, now);

    public void Poll(long now)
    {
        if (_inner.NextDeadline <= now)
        {
            _inner.Poll(now);
        }

        for (var i = 0; i < HeldSlots; i++)
        {
            if (_slotDue[i] == 0)
            {
                // Held during this turn's sends, which know no time: its delay starts now.
                _slotDue[i] = now + _reorderDelayTicks;
            }
            else if (_slotDue[i] <= now)
            {
                _slotDue[i] = Timestamps.NotArmed;
                _inner.Send(_slotDestination[i], _slotBytes[i].AsSpan(0, _slotLength[i]));
            }
        }
    }

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    /// <summary>True when the datagram was dropped or held back (this layer took it); false to send it now.</summary>
    private bool Impair(in UnderlayAddress destination, ReadOnlySpan<byte> datagram)
    {
        var draw = _random.NextDouble();
        if (draw < _impairment.LossRate)
        {
            Interlocked.Increment(ref _dropped);
            return true;
        }

        if (draw >= _impairment.LossRate + _impairment.ReorderRate || datagram.Length > SlotBytes)
        {
            return false;
        }

        for (var i = 0; i < HeldSlots; i++)
        {
            if (_slotDue[i] == Timestamps.NotArmed)
            {
                datagram.CopyTo(_slotBytes[i]);
                _slotLength[i] = datagram.Length;
                _slotDestination[i] = destination;
                _slotDue[i] = 0;
                Interlocked.Increment(ref _reordered);
                return true;
            }
        }

        return false;
    }
}
