using System.Buffers.Binary;
using System.Net;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>
/// Two (or more) <see cref="WireGuardEndpoint"/>s joined by an in-memory underlay with an explicit clock: datagrams
/// sit in flight until <see cref="Pump"/> delivers them; tests can drop, capture, duplicate or rewrite them.
/// </summary>
internal sealed class SimulatedNetwork
{
    private readonly List<(UnderlayAddress From, UnderlayAddress To, byte[] Bytes)> _inFlight = new();
    private readonly List<Node> _nodes = new();

    public long Now { get; set; } = TimeSpan.FromHours(1).Ticks;

    public PacketBufferPool Pool { get; } = new();

    public Func<UnderlayAddress, UnderlayAddress, byte[], bool>? Filter { get; set; }

    public List<(UnderlayAddress From, UnderlayAddress To, byte[] Bytes)> Sent { get; } = new();

    /// <summary>Every datagram sent, before <see cref="Filter"/> decides whether it is lost.</summary>
    public event Action<UnderlayAddress, UnderlayAddress, byte[]>? Observed;

    public Node AddNode(string name, byte lastOctet, WireGuardTimerSettings? timers = null, int underLoadThreshold = 128, int seed = 1)
    {
        var key = new byte[32];
        X25519.GeneratePrivateKey(key);
        var node = new Node(this, name, UnderlayAddress.FromIPv4(new byte[] { 192, 0, 2, lastOctet }, 51820),
            IPAddress.Parse($"10.0.0.{lastOctet}"), new WireGuardEndpoint(new WireGuardEndpointOptions
            {
                PrivateKey = key,
                Pool = Pool,
                Timers = timers ?? WireGuardTimerSettings.Default,
                UnderLoadThreshold = underLoadThreshold,
                Random = new Random(seed),
                WallClock = new SteppingClock(),
            }));
        _nodes.Add(node);
        return node;
    }

    /// <summary>Makes <paramref name="a"/> and <paramref name="b"/> peers of each other (each with the other's /32).</summary>
    public static (WireGuardPeer AtA, WireGuardPeer AtB) Connect(Node a, Node b, byte[]? psk = null, bool aKnowsEndpoint = true, bool bKnowsEndpoint = true)
    {
        var atA = a.Endpoint.AddPeer(b.Endpoint.PublicKey);
        var atB = b.Endpoint.AddPeer(a.Endpoint.PublicKey);
        a.Endpoint.SetAllowedIps(atA, new[] { (b.InnerAddress, 32) });
        b.Endpoint.SetAllowedIps(atB, new[] { (a.InnerAddress, 32) });
        if (psk is not null)
        {
            atA.SetPresharedKey(psk);
            atB.SetPresharedKey(psk);
        }

        if (aKnowsEndpoint)
        {
            a.Endpoint.ConfigureEndpoint(atA, b.Address);
        }

        if (bKnowsEndpoint)
        {
            b.Endpoint.ConfigureEndpoint(atB, a.Address);
        }

        return (atA, atB);
    }

    internal void Enqueue(UnderlayAddress from, UnderlayAddress to, PacketBuffer datagram)
    {
        var bytes = datagram.Span.ToArray();
        datagram.Return();
        Sent.Add((from, to, bytes));
        Observed?.Invoke(from, to, bytes);
        if (Filter is null || Filter(from, to, bytes))
        {
            _inFlight.Add((from, to, bytes));
        }
    }

    /// <summary>Delivers in-flight datagrams (and whatever they trigger) until the network is quiet; returns how many.</summary>
    public int Pump(int maxRounds = 100)
    {
        var delivered = 0;
        for (var round = 0; round < maxRounds && _inFlight.Count > 0; round++)
        {
            var batch = _inFlight.ToArray();
            _inFlight.Clear();
            foreach (var (from, to, bytes) in batch)
            {
                if (_nodes.Find(n => n.Address == to) is { } node)
                {
                    node.Receive(bytes, from);
                    delivered++;
                }
            }
        }

        return delivered;
    }

    public void DropInFlight() => _inFlight.Clear();

    public int InFlightCount => _inFlight.Count;

    /// <summary>Advances time, running every node's due timers in deadline order.</summary>
    public void Advance(TimeSpan by, bool pump = true)
    {
        var target = Now + by.Ticks;
        for (var guard = 0; guard < 100_000; guard++)
        {
            var next = long.MaxValue;
            foreach (var node in _nodes)
            {
                next = Math.Min(next, node.Endpoint.NextDeadline);
            }

            if (next > target)
            {
                break;
            }

            Now = Math.Max(Now, next);
            foreach (var node in _nodes)
            {
                node.Endpoint.Poll(Now, node);
            }

            if (pump)
            {
                Pump();
            }
        }

        Now = target;
    }

    internal sealed class Node : IWireGuardOutput
    {
        private readonly SimulatedNetwork _network;

        public Node(SimulatedNetwork network, string name, UnderlayAddress address, IPAddress innerAddress, WireGuardEndpoint endpoint)
        {
            _network = network;
            Name = name;
            Address = address;
            InnerAddress = innerAddress;
            Endpoint = endpoint;
        }

        public string Name { get; }

        public UnderlayAddress Address { get; set; }

        public IPAddress InnerAddress { get; }

        public WireGuardEndpoint Endpoint { get; }

        public List<byte[]> Delivered { get; } = new();

        public int PendingHandshakes { get; set; }

        public void SendDatagram(in UnderlayAddress destination, PacketBuffer datagram) => _network.Enqueue(Address, destination, datagram);

        public void DeliverPacket(WireGuardPeer peer, PacketBuffer packet)
        {
            Delivered.Add(packet.Span.ToArray());
            packet.Return();
        }

        public void Receive(byte[] bytes, UnderlayAddress from)
        {
            var buffer = _network.Pool.Rent(0);
            bytes.CopyTo(buffer.Append(bytes.Length));
            Endpoint.ReceiveDatagram(buffer, from, _network.Now, PendingHandshakes, this);
        }

        /// <summary>Sends an IPv4 packet from this node's inner address to <paramref name="destination"/> with <paramref name="payloadLength"/> bytes.</summary>
        public void SendIp(IPAddress destination, int payloadLength = 20, byte marker = 0)
        {
            var packet = _network.Pool.Rent();
            var span = packet.Append(20 + payloadLength);
            WriteIpv4(span, InnerAddress, destination, marker);
            Endpoint.SendPacket(packet, _network.Now, this);
        }

        public void Poll() => Endpoint.Poll(_network.Now, this);
    }

    public static void WriteIpv4(Span<byte> span, IPAddress source, IPAddress destination, byte marker)
    {
        span.Clear();
        span[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)span.Length);
        span[8] = 64;
        span[9] = 253; // experimental protocol number: the core does not care
        source.TryWriteBytes(span[12..], out _);
        destination.TryWriteBytes(span[16..], out _);
        if (span.Length > 20)
        {
            span[20] = marker;
        }
    }

    /// <summary>A wall clock that moves forward a little on every read, so TAI64N timestamps keep increasing.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow()
        {
            _now = _now.AddMilliseconds(50);
            return _now;
        }
    }
}
