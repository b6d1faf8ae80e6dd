using System.Buffers.Binary;
using System.Net;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>wireguard</c>: datagrams into <see cref="WireGuardEndpoint.ReceiveDatagram"/> of a real endpoint (B) with a
/// configured peer (A, another real endpoint) and live sessions. The corpus is what A sends B: an initiation, a
/// response to B's initiation, a cookie reply (A under load), transport data and a keepalive. Every fourth input
/// arrives while B is under load (cookie/mac2 path), every 4096 inputs A and B exchange real traffic so fresh
/// handshakes and keypairs keep appearing. Checked: nothing throws, packet buffers are not leaked.
/// The static keys are fixed; the ephemerals and indices come from the OS generator, so the corpus' ciphertexts (and
/// thus the mutated bytes built on them) differ between processes, the mutation recipe of (seed, index) does not.
/// </summary>
internal sealed class WireGuardFuzzTarget : IFuzzTarget
{
    private static readonly UnderlayAddress s_addressA = UnderlayAddress.FromIPv4([192, 0, 2, 1], 51820);
    private static readonly UnderlayAddress s_addressB = UnderlayAddress.FromIPv4([192, 0, 2, 2], 51820);
    private static readonly UnderlayAddress s_stranger = UnderlayAddress.FromIPv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9], 9);

    private readonly PacketBufferPool _pool = new(maxPooled: 8192);
    private readonly Node _a;
    private readonly Node _b;
    private long _now = TimeSpan.FromHours(1).Ticks;
    private long _inputs;
    private long _sealedByA;
    private readonly WireGuardPeer _atA;
    private readonly WireGuardPeer _atB;

    public WireGuardFuzzTarget()
    {
        _a = new Node(this, s_addressA, 1);
        _b = new Node(this, s_addressB, 2);
        var atA = _atA = _a.Endpoint.AddPeer(_b.Endpoint.PublicKey);
        var atB = _atB = _b.Endpoint.AddPeer(_a.Endpoint.PublicKey);
        _a.Endpoint.SetAllowedIps(atA, [(IPAddress.Parse("10.0.0.2"), 32)]);
        _b.Endpoint.SetAllowedIps(atB, [(IPAddress.Parse("10.0.0.1"), 32), (IPAddress.Parse("fd00::1"), 128)]);
        _a.Endpoint.ConfigureEndpoint(atA, s_addressB);
        _b.Endpoint.ConfigureEndpoint(atB, s_addressA);

        var corpus = new List<byte[]>();

        // A's initiation, kept back from B.
        _a.SendIp(40);
        corpus.Add(_a.TakeSent().Single(m => m[0] == MessageLayout.TypeInitiation));

        // B initiates; A under load answers with a cookie reply, then normally with a response.
        _b.SendIp(40);
        var initiationFromB = _b.TakeSent().Single();
        _a.Receive(initiationFromB, s_addressB, pendingHandshakes: 100_000);
        corpus.Add(_a.TakeSent().Single(m => m[0] == MessageLayout.TypeCookieReply));
        _now += TimeSpan.FromSeconds(2).Ticks; // past the under-load window
        _a.Receive(initiationFromB, s_addressB, pendingHandshakes: 0);
        var response = _a.TakeSent().Single(m => m[0] == MessageLayout.TypeResponse);
        corpus.Add(response);
        _b.Receive(response, s_addressA, 0);
        Pump();

        // Transport data (IPv4 and padded), then a keepalive.
        _a.SendIp(100);
        _a.SendIp(1);
        corpus.AddRange(_a.TakeSent().Where(m => m[0] == MessageLayout.TypeTransport));
        _a.Endpoint.SetPersistentKeepalive(atA, TimeSpan.FromSeconds(1), _now, _a);
        Advance(TimeSpan.FromSeconds(2), pump: false);
        corpus.AddRange(_a.TakeSent().Where(m => m[0] == MessageLayout.TypeTransport && m.Length == MessageLayout.TransportHeaderSize + MessageLayout.TagSize));
        _a.Endpoint.SetPersistentKeepalive(atA, TimeSpan.Zero, _now, _a);
        _b.TakeSent();
        if (corpus.Count < 5)
        {
            throw new InvalidOperationException($"expected at least five seed messages, got {corpus.Count}");
        }

        // Inner packets from A's allowed addresses, for the inputs A seals (every eighth).
        var ipv4 = (byte[])PacketCorpus.Ipv4UdpDns.Clone();
        ipv4[12] = 10;
        ipv4[13] = 0;
        ipv4[14] = 0;
        ipv4[15] = 1;
        var ipv6 = (byte[])PacketCorpus.Ipv6Udp.Clone();
        ipv6.AsSpan(8, 16).Clear();
        ipv6[8] = 0xfd;
        ipv6[23] = 1;
        corpus.Add(ipv4);
        corpus.Add(ipv6);
        Corpus = corpus;
    }

    public IReadOnlyList<byte[]> Corpus { get; }

    public int MaxInputLength => 1600;

    public void Execute(byte[] input)
    {
        _inputs++;
        _now += TimeSpan.TicksPerMillisecond;
        var from = (_inputs % 7) switch { 0 => s_stranger, 1 => s_addressB, _ => s_addressA };
        switch (_inputs % 8)
        {
            case 5 when input.Length >= MessageLayout.TransportHeaderSize && input[0] == MessageLayout.TypeTransport && _atB.Current is { } current:
                // Aimed at the live keypair, so the AEAD and replay checks (not the index lookup) reject it.
                BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(MessageLayout.TransportReceiver), current.LocalIndex);
                _b.Receive(input, from, 0);
                break;
            case 6:
                // The input as the plaintext of a genuine transport message: the inner-packet checks see it.
                var packet = _pool.Rent();
                input.AsSpan(0, Math.Min(input.Length, 1400)).CopyTo(packet.Append(Math.Min(input.Length, 1400)));
                _a.Endpoint.SendPacket(_atA, packet, _now, _a);
                foreach (var message in _a.TakeSent())
                {
                    _sealedByA++;
                    _b.Receive(message, s_addressA, 0);
                }

                Pump();
                break;
            default:
                _b.Receive(input, from, pendingHandshakes: _inputs % 4 == 0 ? 100_000 : 0);
                break;
        }

        if (_now >= _b.Endpoint.NextDeadline)
        {
            _b.Endpoint.Poll(_now, _b);
        }

        _b.TakeSent();
        if (_inputs % 4096 == 0)
        {
            // Real traffic both ways keeps sessions (and rekeys) going while the garbage arrives.
            _a.SendIp(60);
            _b.SendIp(60);
            Pump();
            Advance(TimeSpan.FromSeconds(3), pump: true);
            if (_pool.CreatedCount - _pool.IdleCount > 1024)
            {
                throw new FuzzInvariantException($"{_pool.CreatedCount - _pool.IdleCount} packet buffers are out of the pool");
            }
        }
    }

    public string Describe() =>
        "B's drops: " + string.Join(", ", _b.Endpoint.Counters.Snapshot().Where(kv => kv.Value > 0).Select(kv => $"{kv.Key}={kv.Value}"))
        + $"; cookie replies sent {_b.Endpoint.Counters.CookieRepliesSent}; messages sealed by A {_sealedByA}; B delivered {_b.Delivered}; handshakes completed at A {_atA.HandshakesCompleted}, at B {_atB.HandshakesCompleted}";

    private void Pump()
    {
        for (var round = 0; round < 50; round++)
        {
            var fromA = _a.TakeSent();
            var fromB = _b.TakeSent();
            if (fromA.Count == 0 && fromB.Count == 0)
            {
                return;
            }

            fromA.ForEach(m => _b.Receive(m, s_addressA, 0));
            fromB.ForEach(m => _a.Receive(m, s_addressB, 0));
        }
    }

    private void Advance(TimeSpan by, bool pump)
    {
        var target = _now + by.Ticks;
        for (var guard = 0; guard < 10_000; guard++)
        {
            var next = Math.Min(_a.Endpoint.NextDeadline, _b.Endpoint.NextDeadline);
            if (next > target)
            {
                break;
            }

            _now = Math.Max(_now, next);
            _a.Endpoint.Poll(_now, _a);
            _b.Endpoint.Poll(_now, _b);
            if (pump)
            {
                Pump();
            }
        }

        _now = target;
    }

    private sealed class Node : IWireGuardOutput
    {
        private readonly WireGuardFuzzTarget _owner;
        private readonly UnderlayAddress _address;
        private readonly byte _octet;
        private List<byte[]> _sent = [];

        public Node(WireGuardFuzzTarget owner, UnderlayAddress address, byte octet)
        {
            _owner = owner;
            _address = address;
            _octet = octet;
            var key = Enumerable.Range(octet * 32, 32).Select(i => (byte)i).ToArray();
            X25519.ClampPrivateKey(key);
            Endpoint = new WireGuardEndpoint(new WireGuardEndpointOptions
            {
                PrivateKey = key,
                Pool = owner._pool,
                Random = new Random(octet),
                WallClock = new SteppingClock(),
            });
        }

        public WireGuardEndpoint Endpoint { get; }

        public void SendDatagram(in UnderlayAddress destination, PacketBuffer datagram)
        {
            if (_sent.Count < 256)
            {
                _sent.Add(datagram.Span.ToArray());
            }

            datagram.Return();
        }

        public long Delivered { get; private set; }

        public void DeliverPacket(WireGuardPeer peer, PacketBuffer packet)
        {
            Delivered++;
            packet.Return();
        }

        public List<byte[]> TakeSent()
        {
            var sent = _sent;
            _sent = [];
            return sent;
        }

        public void Receive(byte[] bytes, in UnderlayAddress from, int pendingHandshakes)
        {
            var buffer = _owner._pool.Rent(0);
            if (bytes.Length > buffer.Tailroom)
            {
                buffer.Return();
                return;
            }

            bytes.CopyTo(buffer.Append(bytes.Length));
            Endpoint.ReceiveDatagram(buffer, from, _owner._now, pendingHandshakes, this);
        }

        /// <summary>An IPv4 packet from this node's 10.0.0.x to the other's, <paramref name="payloadLength"/> bytes of payload.</summary>
        public void SendIp(int payloadLength)
        {
            var packet = _owner._pool.Rent();
            var span = packet.Append(20 + payloadLength);
            span.Clear();
            span[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)span.Length);
            span[8] = 64;
            span[9] = 253;
            span[12] = 10;
            span[15] = _octet;
            span[16] = 10;
            span[19] = (byte)(3 - _octet);
            Endpoint.SendPacket(packet, _owner._now, this);
        }
    }

    /// <summary>Every read is 50 ms later: TAI64N timestamps keep increasing however fast the fuzzer runs.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now = _now.AddMilliseconds(50);
    }
}
