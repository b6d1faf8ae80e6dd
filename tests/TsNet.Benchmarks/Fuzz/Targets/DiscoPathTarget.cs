using System.Net;
using TsNet.Paths;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>disco</c>: disco packets into <see cref="DiscoPathCore"/> (B) from a known peer (A) over UDP and DERP. Each
/// input arrives as it is, and as the plaintext of a box sealed with A's disco key (so mutated Ping, Pong and
/// CallMeMaybe bodies reach the path logic: pong addresses, call-me-maybe endpoint lists, txid matching). The corpus
/// holds a Pong answering B's own first ping. Keys and B's random source are fixed. B is polled as time passes
/// (10 ms per input) and what it sends is dropped.
/// </summary>
internal sealed class DiscoPathTarget : IFuzzTarget, IPathOutput
{
    private static readonly UnderlayAddress s_addressA = UnderlayAddress.FromIPv4([198, 51, 100, 1], 41641);
    private static readonly UnderlayAddress s_stranger = UnderlayAddress.FromIPv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7], 7);

    private readonly byte[] _aPublic = new byte[32];
    private readonly byte[] _abShared = new byte[32];
    private readonly byte[] _aNodeKey = Enumerable.Repeat((byte)0xA1, 32).ToArray();
    private readonly byte[] _sealed = new byte[DiscoPacket.Overhead + 8192];
    private readonly byte[] _nonce = new byte[DiscoPacket.NonceLength];
    private readonly DiscoPathCore _core;
    private readonly List<byte[]> _sent = [];
    private long _now = TimeSpan.FromSeconds(1000).Ticks;
    private long _inputs;

    public DiscoPathTarget()
    {
        var aPrivate = Enumerable.Range(64, 32).Select(i => (byte)i).ToArray();
        var bPrivate = Enumerable.Range(96, 32).Select(i => (byte)i).ToArray();
        X25519.ClampPrivateKey(aPrivate);
        X25519.ClampPrivateKey(bPrivate);
        X25519.DerivePublicKey(aPrivate, _aPublic);
        var bPublic = new byte[32];
        X25519.DerivePublicKey(bPrivate, bPublic);
        NaClBox.TryPrecompute(aPrivate, bPublic, _abShared);
        var random = new FuzzRandom(42);
        _core = new DiscoPathCore(bPrivate, Enumerable.Repeat((byte)0xB2, 32).ToArray(), random: random.NextBytes);
        var peer = _core.SetPeer(_aNodeKey, new DiscoKey(_aPublic), 1, [IPEndPoint.Parse("198.51.100.1:41641"), IPEndPoint.Parse("[2001:db8::1]:41641")], _now);
        _core.SetLocalEndpoints([IPEndPoint.Parse("203.0.113.2:41641")], _now);

        // B's first ping to A, opened with A's key: its txid makes a Pong that matches.
        _core.ChooseSend(peer, _now, this);
        var inners = new List<byte[]>();
        var inner = new byte[1024];
        foreach (var packet in _sent)
        {
            if (DiscoPacket.TryParse(packet, out _, out var nonce, out var box) && DiscoPacket.Open(_abShared, nonce, box, inner) is > 0 and var length
                && DiscoPacket.TryReadMessageHeader(inner.AsSpan(0, length), out var type, out _, out var body) && type == DiscoMessageType.Ping)
            {
                var pong = new byte[64];
                inners.Add(pong.AsSpan(0, new DiscoPong(body[..DiscoPing.TxIdLength].ToArray(), IPEndPoint.Parse("203.0.113.2:41641")).Write(pong)).ToArray());
            }
        }

        _sent.Clear();
        if (inners.Count == 0)
        {
            throw new InvalidOperationException("B sent no ping to A");
        }

        var txId = Enumerable.Range(1, DiscoPing.TxIdLength).Select(i => (byte)i).ToArray();
        var buffer = new byte[1024];
        inners.Add(buffer.AsSpan(0, new DiscoPing(txId, _aNodeKey, 0).Write(buffer)).ToArray());
        inners.Add(buffer.AsSpan(0, new DiscoPing(txId, null, 8).Write(buffer)).ToArray());
        inners.Add(buffer.AsSpan(0, new DiscoCallMeMaybe([IPEndPoint.Parse("198.51.100.9:41641"), IPEndPoint.Parse("[2001:db8::9]:1")]).Write(buffer)).ToArray());
        var corpus = new List<byte[]>(inners);
        corpus.AddRange(inners.Select(i => Seal(i).ToArray()));
        Corpus = corpus;
    }

    public IReadOnlyList<byte[]> Corpus { get; }

    public int MaxInputLength => 2048;

    public string Describe()
    {
        var c = _core.Counters;
        return $"pings received {c.PingsReceived}, pongs received {c.PongsReceived} (unknown {c.UnknownPongs}), call-me-maybe received {c.CallMeMaybeReceived}, "
            + $"pings sent {c.PingsSent}, pongs sent {c.PongsSent}; dropped bad box {c.DroppedBadBox}, malformed {c.DroppedMalformed}, unknown sender {c.DroppedUnknownSender}, wrong transport {c.DroppedWrongTransport}";
    }

    public void Execute(byte[] input)
    {
        _inputs++;
        _now += TimeSpan.TicksPerMillisecond * 10;
        var from = _inputs % 5 == 0 ? s_stranger : s_addressA;
        _core.ReceiveUdpDisco(input, from, _now, this);
        _core.ReceiveDerpDisco(input, 1, _aNodeKey, _now, this);
        if (input.Length <= 4096)
        {
            if (_inputs % 2 == 0 && input.Length >= 2 + DiscoPing.TxIdLength && input[0] == (byte)DiscoMessageType.Pong && _lastPingTxId is { } txId)
            {
                // Answer B's latest ping, so pongs with mutated addresses are matched rather than unknown.
                txId.CopyTo(input, 2);
            }

            var packet = Seal(input);
            _core.ReceiveUdpDisco(packet, from, _now, this);
            _core.ReceiveDerpDisco(Seal(input), (int)(_inputs % 3), _aNodeKey, _now, this);
        }

        if (_now >= _core.NextDeadline)
        {
            _core.Poll(_now, this);
        }

        foreach (var sent in _sent)
        {
            if (DiscoPacket.TryParse(sent, out _, out var nonce, out var box) && box.Length <= _opened.Length + NaClBox.Overhead
                && DiscoPacket.Open(_abShared, nonce, box, _opened) is > 0 and var length
                && DiscoPacket.TryReadMessageHeader(_opened.AsSpan(0, length), out var type, out _, out var body)
                && type == DiscoMessageType.Ping && body.Length >= DiscoPing.TxIdLength)
            {
                _lastPingTxId = body[..DiscoPing.TxIdLength].ToArray();
            }
        }

        _sent.Clear();
    }

    void IPathOutput.SendUdp(in UnderlayAddress destination, ReadOnlySpan<byte> datagram) => Keep(datagram);

    void IPathOutput.SendDerp(int regionId, ReadOnlySpan<byte> nodeKey, ReadOnlySpan<byte> datagram) => Keep(datagram);

    private void Keep(ReadOnlySpan<byte> datagram)
    {
        if (_sent.Count < 1024)
        {
            _sent.Add(datagram.ToArray());
        }
    }

    /// <summary>Seals <paramref name="inner"/> from A to B; a fresh nonce each time (the counter), as a sender would.</summary>
    private ReadOnlySpan<byte> Seal(ReadOnlySpan<byte> inner)
    {
        BitConverter.TryWriteBytes(_nonce, ++_sealCount);
        var length = DiscoPacket.Seal(_aPublic, _abShared, _nonce, inner, _sealed);
        return _sealed.AsSpan(0, length);
    }

    private long _sealCount;
    private byte[]? _lastPingTxId;
    private readonly byte[] _opened = new byte[4096];
}
