using System.Buffers.Binary;
using TsNet.Paths;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>stun</c>: STUN classification and the binding-response parser, and <see cref="NetcheckCore.ReceiveStun"/> with a
/// report running whose requests the corpus answers (IPv4 and IPv6 XOR-MAPPED-ADDRESS, the alternate attribute,
/// MAPPED-ADDRESS, unknown attributes). The core's random source is fixed, so its transaction ids are the same in
/// every instance; it is rebuilt whenever a report finished.
/// </summary>
internal sealed class StunFuzzTarget : IFuzzTarget, IPathOutput
{
    private static readonly UnderlayAddress[] s_servers =
    [
        UnderlayAddress.FromIPv4([192, 0, 2, 1], 3478),
        UnderlayAddress.FromIPv4([192, 0, 2, 2], 3478),
        UnderlayAddress.FromIPv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 3478),
    ];

    private readonly List<(UnderlayAddress To, byte[] Request)> _requests = [];
    private NetcheckCore _core;
    private long _now = TimeSpan.FromHours(1).Ticks;
    private long _answered;
    private long _parsed;

    public StunFuzzTarget()
    {
        _core = NewCore();
        var corpus = new List<byte[]>();
        foreach (var (_, request) in _requests)
        {
            var id = request.AsSpan(8, 12);
            corpus.Add(Response(id, (0x0020, [0, 1, 0xA1, 0x2B, 198 ^ 0x21, 51 ^ 0x12, 100 ^ 0xA4, 7 ^ 0x42])));
            corpus.Add(Response(id, (0x8020, [0, 1, 0xA1, 0x2B, 198 ^ 0x21, 51 ^ 0x12, 100 ^ 0xA4, 8 ^ 0x42])));
            corpus.Add(Response(id, (0x0001, [0, 1, 0x80, 0x00, 203, 0, 113, 9])));
            var v6 = new byte[20];
            v6[1] = 2;
            BinaryPrimitives.WriteUInt16BigEndian(v6.AsSpan(2), 41641 ^ 0x2112);
            v6[4] = 0x20 ^ 0x21;
            v6[5] = 0x01 ^ 0x12;
            corpus.Add(Response(id, (0x0020, v6)));
            corpus.Add(Response(id, (0x8022, "fuzz!"u8.ToArray()), (0x0001, [0, 1, 0, 80, 10, 0, 0, 1]), (0x0020, [0, 1, 0xA1, 0x2B, 1, 2, 3, 4])));
            corpus.Add(request);
        }

        Corpus = corpus;
    }

    public IReadOnlyList<byte[]> Corpus { get; }

    public int MaxInputLength => 600;

    public void Execute(byte[] input)
    {
        _ = StunMessage.IsStun(input);
        _ = StunMessage.IsBindingMessage(input);
        if (StunBindingResponse.TryParse(input, out var id, out var mapped) && ++_parsed > 0 && (id.Length != 12 || mapped.IsDerp))
        {
            throw new FuzzInvariantException("a parsed response has a transaction id that is not 12 bytes or a DERP address");
        }

        _now += TimeSpan.TicksPerMillisecond;
        foreach (var server in s_servers)
        {
            if (_core.ReceiveStun(input, server, _now))
            {
                _answered++;
            }
        }

        _core.Poll(_now, this);
        if (_core.ReportCount > 0)
        {
            _core = NewCore();
        }
    }

    public string Describe() => $"binding responses parsed {_parsed}, probes answered {_answered}";

    void IPathOutput.SendUdp(in UnderlayAddress destination, ReadOnlySpan<byte> datagram) => _requests.Add((destination, datagram.ToArray()));

    void IPathOutput.SendDerp(int regionId, ReadOnlySpan<byte> nodeKey, ReadOnlySpan<byte> datagram)
    {
    }

    private NetcheckCore NewCore()
    {
        var fill = new FuzzRandom(20261207);
        var core = new NetcheckCore(random: fill.NextBytes);
        core.SetTargets([new StunTarget(1, s_servers[0], 0, true), new StunTarget(2, s_servers[1], 0, true), new StunTarget(3, s_servers[2], 0, true)], _now);
        _requests.Clear();
        core.Poll(_now, this);
        return core;
    }

    private static byte[] Response(ReadOnlySpan<byte> transactionId, params (ushort Type, byte[] Value)[] attributes)
    {
        var body = new List<byte>();
        foreach (var (type, value) in attributes)
        {
            body.Add((byte)(type >> 8));
            body.Add((byte)type);
            body.Add((byte)(value.Length >> 8));
            body.Add((byte)value.Length);
            body.AddRange(value);
            body.AddRange(new byte[((value.Length + 3) & ~3) - value.Length]);
        }

        var bytes = new byte[20 + body.Count];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, 0x0101);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)body.Count);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 0x2112A442);
        transactionId.CopyTo(bytes.AsSpan(8));
        body.CopyTo(bytes, 20);
        return bytes;
    }
}
