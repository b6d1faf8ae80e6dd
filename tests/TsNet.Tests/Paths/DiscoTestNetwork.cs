using System.Net;
using TsNet.Paths;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.Paths;

/// <summary>
/// Disco nodes wired back to back without sockets: each node is an <see cref="IPathOutput"/>; UDP datagrams reach the
/// node owning the destination address (after a per-link delay), DERP datagrams the node with the destination key.
/// Switches cut UDP or DERP. Time is explicit: <see cref="Advance"/> steps through deliveries, core deadlines and
/// optional traffic ticks, polling each core when it is due, as the dataplane loop does.
/// </summary>
internal sealed class DiscoTestNetwork
{
    public const int Region = 1;

    private readonly List<DiscoTestNode> _nodes = [];
    private readonly PriorityQueue<Action, (long At, long Seq)> _inFlight = new();
    private readonly Random _random = new(12);
    private long _seq;

    public DiscoTestNetwork(DiscoPathTimings? timings = null) => Timings = timings;

    public DiscoPathTimings? Timings { get; }

    public long Now { get; set; } = TimeSpan.FromSeconds(1000).Ticks;

    /// <summary>Drops every UDP datagram.</summary>
    public bool UdpCut { get; set; }

    /// <summary>Drops every DERP datagram.</summary>
    public bool DerpCut { get; set; }

    /// <summary>Drops a UDP datagram when it returns true (from, to).</summary>
    public Func<UnderlayAddress, UnderlayAddress, bool>? DropUdp { get; set; }

    /// <summary>One-way delay of a UDP datagram to an address (default none).</summary>
    public Func<UnderlayAddress, TimeSpan>? UdpDelay { get; set; }

    public DiscoTestNode AddNode(string name, params string[] addresses)
    {
        var node = new DiscoTestNode(this, name, addresses.Select(Address).ToArray(), b => _random.NextBytes(b));
        _nodes.Add(node);
        return node;
    }

    public static UnderlayAddress Address(string text) => UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse(text));

    public static IPEndPoint EndPoint(string text) => IPEndPoint.Parse(text);

    public void SendUdp(DiscoTestNode from, UnderlayAddress to, byte[] datagram)
    {
        if (UdpCut || DropUdp?.Invoke(from.Address, to) == true)
        {
            return;
        }

        var target = _nodes.FirstOrDefault(n => n.Addresses.Contains(to));
        if (target is null)
        {
            return;
        }

        var source = from.Address;
        var delay = UdpDelay?.Invoke(to) ?? TimeSpan.Zero;
        Schedule(delay, () => target.Core.ReceiveUdpDisco(datagram, source, Now, target));
    }

    public void SendDerp(DiscoTestNode from, int region, byte[] nodeKey, byte[] datagram)
    {
        if (DerpCut)
        {
            return;
        }

        var target = _nodes.FirstOrDefault(n => n.NodeKey.AsSpan().SequenceEqual(nodeKey));
        if (target is null)
        {
            return;
        }

        Schedule(TimeSpan.Zero, () => target.Core.ReceiveDerpDisco(datagram, region, from.NodeKey, Now, target));
    }

    /// <summary>Delivers what is due now (bounded so a ping storm fails the test instead of hanging it).</summary>
    public void Pump()
    {
        for (int i = 0; i < 10_000; i++)
        {
            if (!_inFlight.TryPeek(out _, out var key) || key.At > Now)
            {
                return;
            }

            _inFlight.Dequeue()();
        }

        throw new InvalidOperationException("The disco nodes never went quiet.");
    }

    /// <summary>
    /// Moves time forward by <paramref name="duration"/>, stopping at every delivery, core deadline and traffic tick
    /// (every <paramref name="trafficEvery"/>, calling <paramref name="traffic"/>).
    /// </summary>
    public void Advance(TimeSpan duration, TimeSpan? trafficEvery = null, Action? traffic = null)
    {
        long end = Now + duration.Ticks;
        long nextTraffic = trafficEvery is { } every ? Now + every.Ticks : Timestamps.NotArmed;
        Pump();
        while (true)
        {
            long next = Math.Min(end, nextTraffic);
            foreach (var node in _nodes)
            {
                next = Math.Min(next, Math.Max(node.Core.NextDeadline, Now));
            }

            if (_inFlight.TryPeek(out _, out var key))
            {
                next = Math.Min(next, key.At);
            }

            if (next > end)
            {
                break;
            }

            Now = next;
            Pump();
            foreach (var node in _nodes)
            {
                if (node.Core.NextDeadline <= Now)
                {
                    node.Core.Poll(Now, node);
                }
            }

            if (Now == nextTraffic)
            {
                traffic!();
                nextTraffic += trafficEvery!.Value.Ticks;
            }

            Pump();
            if (Now == end)
            {
                break;
            }
        }

        Now = end;
    }

    private void Schedule(TimeSpan delay, Action delivery) => _inFlight.Enqueue(delivery, (Now + delay.Ticks, _seq++));
}
