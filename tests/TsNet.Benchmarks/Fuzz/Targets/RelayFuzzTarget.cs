using System.Net;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>relay</c>: Geneve, disco framing and every disco message parser (Ping, Pong, CallMeMaybe, Bind/Challenge/Answer,
/// CallMeMaybeVia, Allocate request and response), the relay server's packet handler with an allocated endpoint, and
/// the relay handshake client. Each input is used twice: as a datagram as it arrives, and as the plaintext inside a
/// disco box sealed with the right keys (fixed here), so mutated message bodies get past authentication into the
/// server and client logic.
/// </summary>
internal sealed class RelayFuzzTarget : IFuzzTarget
{
    private const uint Vni = 1;
    private static readonly UnderlayAddress s_addressA = UnderlayAddress.FromIPv4([198, 51, 100, 1], 41641);
    private static readonly UnderlayAddress s_addressB = UnderlayAddress.FromIPv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 41641);
    private static readonly UnderlayAddress s_stranger = UnderlayAddress.FromIPv4([203, 0, 113, 9], 9);

    private readonly byte[] _serverPrivate = Key(1);
    private readonly byte[] _aPrivate = Key(2);
    private readonly byte[] _bPrivate = Key(3);
    private readonly byte[] _serverPublic = new byte[32];
    private readonly byte[] _aPublic = new byte[32];
    private readonly byte[] _bPublic = new byte[32];
    private readonly byte[] _aServerShared = new byte[32];
    private readonly byte[] _bAShared = new byte[32];
    private readonly byte[] _nonce = Enumerable.Range(40, DiscoPacket.NonceLength).Select(i => (byte)i).ToArray();
    private readonly byte[] _reply = new byte[RelayServerCore.MaxReplyLength];
    private readonly byte[] _sealed = new byte[GeneveHeader.Length + DiscoPacket.Overhead + 8192];
    private readonly byte[] _inner = new byte[8192];
    private readonly RelayServerCore _server;
    private RelayHandshakeClient _client;
    private long _now = TimeSpan.FromHours(1).Ticks;
    private readonly long[] _outcomes = new long[8];
    private long _challengesAnswered;
    private long _peerDiscoOpened;

    public RelayFuzzTarget()
    {
        X25519.DerivePublicKey(_serverPrivate, _serverPublic);
        X25519.DerivePublicKey(_aPrivate, _aPublic);
        X25519.DerivePublicKey(_bPrivate, _bPublic);
        NaClBox.TryPrecompute(_aPrivate, _serverPublic, _aServerShared);
        NaClBox.TryPrecompute(_bPrivate, _aPublic, _bAShared);
        _server = new RelayServerCore(_serverPrivate, new RelayServerSettings());
        if (_server.Allocate(new DiscoKey(_aPublic), new DiscoKey(_bPublic), _now, out var endpoint) != RelayAllocationStatus.Allocated || endpoint!.Vni != Vni)
        {
            throw new InvalidOperationException("the first allocation should get VNI 1");
        }

        _client = NewClient();
        Bind(_aPrivate, _bPublic, s_addressA);
        Bind(_bPrivate, _aPublic, s_addressB);
        var a = new DiscoKey(_aPublic);
        var b = new DiscoKey(_bPublic);
        var txId = Enumerable.Range(1, DiscoPing.TxIdLength).Select(i => (byte)i).ToArray();
        var addresses = new[] { new IPEndPoint(IPAddress.Parse("198.51.100.1"), 41641), new IPEndPoint(IPAddress.Parse("2001:db8::2"), 3478) };
        var relayed = new UdpRelayEndpointMessage(new DiscoKey(_serverPublic), a < b ? a : b, a < b ? b : a, 7, Vni,
            TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), addresses);
        var bind = new BindUdpRelayEndpointCommon { Vni = Vni, Generation = 1, RemoteKey = Bytes32.From(_bPublic) };
        var inners = new List<byte[]>
        {
            Write(d => bind.WriteMessage(DiscoMessageType.BindUdpRelayEndpoint, d)),
            Write(d => bind.WriteMessage(DiscoMessageType.BindUdpRelayEndpointAnswer, d)),
            Write(d => new DiscoPing(txId, _aPublic, 0).Write(d)),
            Write(d => new DiscoPing(txId, null, 16).Write(d)),
            Write(d => new DiscoPong(txId, addresses[1]).Write(d)),
            Write(d => new DiscoCallMeMaybe(addresses).Write(d)),
            Write(d => relayed.WriteCallMeMaybeVia(d)),
            Write(d => relayed.WriteAllocateResponse(5, d)),
            Write(d => new AllocateUdpRelayEndpointRequest(a, b, 5).Write(d)),
        };
        var challengeCommon = new BindUdpRelayEndpointCommon { Vni = Vni, Generation = 1, RemoteKey = Bytes32.From(_bPublic) };
        var challenge = Write(d => challengeCommon.WriteMessage(DiscoMessageType.BindUdpRelayEndpointChallenge, d));
        inners.Add(challenge);
        var corpus = new List<byte[]>(inners);
        corpus.Add(SealControl(inners[0], _aPublic, _aServerShared, control: true).ToArray());
        corpus.Add(SealControl(inners[2], _bPublic, _bAShared, control: false).ToArray());
        var data = new byte[GeneveHeader.Length + 148];
        new GeneveHeader(0, false, GeneveHeader.ProtocolWireGuard, Vni).Encode(data);
        data[GeneveHeader.Length] = 4;
        corpus.Add(data);
        var stun = new byte[28];
        stun[1] = 1;
        stun[4] = 0x21;
        stun[5] = 0x12;
        stun[6] = 0xA4;
        stun[7] = 0x42;
        corpus.Add(stun);
        Corpus = corpus;
    }

    public IReadOnlyList<byte[]> Corpus { get; }

    public int MaxInputLength => 2048;

    public long Sink { get; private set; }

    public void Execute(byte[] input)
    {
        _now += TimeSpan.TicksPerMillisecond;
        ReadOnlySpan<byte> span = input;

        // As a datagram.
        _ = GeneveHeader.TryDecode(span, out _);
        _ = GeneveHeader.LooksLikeGeneve(span);
        _ = StunMessage.IsBindingMessage(span);
        foreach (var offset in (ReadOnlySpan<int>)[0, GeneveHeader.Length])
        {
            if (span.Length >= offset)
            {
                _ = DiscoPacket.TryParse(span[offset..], out _, out _, out _);
                _ = DiscoPacket.LooksLikeDisco(span[offset..]);
            }
        }

        Server(span, s_addressA);
        Server(span, s_stranger);
        Client(span);

        // As a message body, then sealed as each side would send it.
        ParseMessage(span);
        if (span.Length <= RelayServerCore.MaxInnerLength + 64)
        {
            Server(SealControl(span, _aPublic, _aServerShared, control: true), s_addressA);
            Server(SealControl(span, _bPublic, _bAShared, control: true), s_addressB);
            Client(SealControl(span, _serverPublic, _aServerShared, control: true));
            Client(SealControl(span, _bPublic, _bAShared, control: false));
        }
    }

    public string Describe() =>
        "server outcomes " + string.Join(", ", Enum.GetValues<RelayPacketOutcome>().Select(o => $"{o}={_outcomes[(int)o & 7]}"))
        + $"; legs bound {_server.LegsBound}; client answered {_challengesAnswered} challenges, opened {_peerDiscoOpened} peer disco";

    private void Server(ReadOnlySpan<byte> datagram, in UnderlayAddress from)
    {
        var outcome = _server.HandlePacket(datagram, from, _now, _reply, out var replyLength, out _);
        _outcomes[(int)outcome & 7]++;
        if (replyLength < 0 || replyLength > _reply.Length || outcome == RelayPacketOutcome.Reply && replyLength == 0)
        {
            throw new FuzzInvariantException($"relay server outcome {outcome} with reply length {replyLength}");
        }
    }

    private void Client(ReadOnlySpan<byte> datagram)
    {
        if (_client.HandleChallenge(datagram, s_stranger, _inner) > 0)
        {
            _challengesAnswered++;
            _client = NewClient();
        }

        var opened = _client.OpenPeerDisco(datagram, _inner);
        if (opened > 0)
        {
            _peerDiscoOpened++;
            ParseMessage(_inner.AsSpan(0, opened));
        }
    }

    private void ParseMessage(ReadOnlySpan<byte> inner)
    {
        if (!DiscoPacket.TryReadMessageHeader(inner, out var type, out var version, out var body))
        {
            return;
        }

        long sink = (int)type;
        sink += BindUdpRelayEndpointCommon.TryParse(body, out var common) ? common.Vni : 0;
        sink += DiscoPing.Parse(body)?.Padding ?? 0;
        sink += DiscoPong.Parse(body)?.Source.Port ?? 0;
        sink += DiscoCallMeMaybe.Parse(version, body).Endpoints.Count;
        sink += UdpRelayEndpointMessage.ParseBody(body)?.AddrPorts.Count ?? 0;
        sink += UdpRelayEndpointMessage.ParseAllocateResponse(body)?.Generation ?? 0;
        sink += AllocateUdpRelayEndpointRequest.Parse(version, body)?.Generation ?? 0;
        Sink += sink;
    }

    private ReadOnlySpan<byte> SealControl(ReadOnlySpan<byte> inner, byte[] senderPublic, byte[] shared, bool control)
    {
        new GeneveHeader(0, control, GeneveHeader.ProtocolDisco, Vni).Encode(_sealed);
        var length = GeneveHeader.Length + DiscoPacket.Seal(senderPublic, shared, _nonce, inner, _sealed.AsSpan(GeneveHeader.Length));
        return _sealed.AsSpan(0, length);
    }

    /// <summary>Binds one leg the real way (Bind, Challenge, Answer), so data between the legs is forwarded.</summary>
    private void Bind(byte[] privateKey, byte[] remotePublic, in UnderlayAddress address)
    {
        var client = new RelayHandshakeClient(privateKey, new DiscoKey(_serverPublic), new DiscoKey(remotePublic), Vni, 1);
        var bind = new byte[RelayHandshakeClient.HandshakeDatagramLength];
        client.WriteBind(bind);
        if (_server.HandlePacket(bind, address, _now, _reply, out var challengeLength, out _) != RelayPacketOutcome.Reply
            || client.HandleChallenge(_reply.AsSpan(0, challengeLength), address, _inner) is var answerLength && answerLength <= 0
            || _server.HandlePacket(_inner.AsSpan(0, answerLength), address, _now, _reply, out _, out _) != RelayPacketOutcome.Consumed)
        {
            throw new InvalidOperationException("binding a relay leg failed");
        }
    }

    private RelayHandshakeClient NewClient() =>
        new(_aPrivate, new DiscoKey(_serverPublic), new DiscoKey(_bPublic), Vni, 1);

    private static byte[] Write(Func<byte[], int> write)
    {
        var buffer = new byte[1024];
        return buffer.AsSpan(0, write(buffer)).ToArray();
    }

    private static byte[] Key(byte fill)
    {
        var key = Enumerable.Range(fill * 32, 32).Select(i => (byte)i).ToArray();
        X25519.ClampPrivateKey(key);
        return key;
    }
}
