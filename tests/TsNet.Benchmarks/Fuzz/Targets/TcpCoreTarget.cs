using System.Buffers.Binary;
using TsNet.Netstack.Tcp;
using TsNet.Packets;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>tcp</c>: a <see cref="TcpConnection"/> driven by a script the input encodes. Byte 0 picks the state to start in
/// (SYN-SENT … TIME-WAIT, reached with valid segments), byte 1 the configuration; then each action is either a
/// segment from the peer (flags, sequence and acknowledgment numbers relative to the connection's own RCV.NXT /
/// SND.UNA / SND.NXT or absolute, window, MSS, window scale, SACK-permitted, timestamps, SACK blocks, payload), raw
/// segment bytes through <see cref="TcpHeader.TryParse(System.ReadOnlySpan{byte}, out TcpHeader, out System.ReadOnlySpan{byte})"/>,
/// an application write, read, shutdown or close, or time passing. After every action the output is drained and
/// the bounds checked (buffers, segment sizes, deadlines, a finite number of segments per drain).
/// </summary>
internal sealed class TcpCoreTarget : IFuzzTarget
{
    private const ushort LocalPort = 80;
    private const ushort RemotePort = 49500;
    private static readonly SeqNum s_localSeq = new(10_000);
    private static readonly SeqNum s_remoteSeq = new(20_000);
    private static readonly TcpEndpoints s_endpoints = new(TcpAddress.FromBytes([10, 0, 0, 1]), LocalPort, TcpAddress.FromBytes([10, 0, 0, 2]), RemotePort);
    private static readonly string[] s_states = ["SynSent", "SynReceived", "Established", "FinWait1", "FinWait2", "CloseWait", "Closing", "LastAck", "TimeWait"];

    private static readonly TcpConfig[] s_configs =
    [
        TcpConfig.Default,
        new() { Timestamps = false, Sack = false, WindowScaling = false, CongestionControl = CongestionControlAlgorithm.NewReno },
        new()
        {
            ReceiveBufferSize = 4096, MaxReceiveBufferSize = 4096, SendBufferSize = 4096, MaxSendBufferSize = 4096, MaxReassemblyRanges = 4,
            KeepAlive = true, KeepAliveIdle = TimeSpan.FromSeconds(1), KeepAliveInterval = TimeSpan.FromSeconds(1),
        },
        new() { Sack = false, RackTlp = false, NoDelay = false, Mtu = 576 },
    ];

    private readonly byte[] _segment = new byte[2048];
    private readonly byte[] _data = new byte[8192];
    private readonly long[] _states = new long[16];
    private long _segmentsIn;
    private long _segmentsOut;

    public TcpCoreTarget()
    {
        Corpus =
        [
            [2, 0, .. Data(0, 100), .. Ack(0), 1, 0x10, 0x00, 4, .. Data(0, 1400), .. Data(1500, 1400), 0, 0x00, 0x80, .. Ack(20000), 3, 0x00],
            [2, 1, .. Data(500, 300), .. Data(0, 499), 2, 0x20, 0x00, 1, 0x08, 0x00, .. Ack(0)],
            [2, 2, 1, 0x20, 0x00, 0, 0x02, 0x00, .. Ack(0), 1, 0x20, 0x00, 0, 0x80, 0x00, 0, 0x80, 0x00],
            [0, 0, 5, 0x12, 0x00, 0x00, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0x1F, 0x05, 0xB4, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
            [1, 3, .. Ack(0), .. Data(0, 10), 3, 0x00],
            [3, 0, .. Ack(0), .. Data(0, 5), 7, 0x11, 0x00, 0x00, 0, 0, 0, 0, 0],
            [4, 1, .. Data(0, 100), 0, 0x10, 0x00],
            [5, 2, 1, 0x01, 0x00, 3, 0x00, .. Ack(0)],
            [8, 0, .. Data(0, 1), 0, 0xFF, 0xFF],
            [2, 0, 6, 0x50, 0x00, 0x04, 0xC4, 0x00, 0x00, 0x4E, 0x21, 0x00, 0x00, 0x27, 0x11, 0x50, 0x10, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00],
        ];
    }

    public IReadOnlyList<byte[]> Corpus { get; }

    public int MaxInputLength => 512;

    public string Describe() =>
        $"segments in {_segmentsIn}, out {_segmentsOut}; runs ending in " +
        string.Join(", ", Enum.GetValues<TcpState>().Where(s => _states[(int)s & 15] > 0).Select(s => $"{s}={_states[(int)s & 15]}"));

    public void Execute(byte[] input)
    {
        if (input.Length < 2)
        {
            return;
        }

        var config = s_configs[input[1] % s_configs.Length];
        var now = TimeSpan.FromHours(1).Ticks;
        var connection = Build(s_states[input[0] % s_states.Length], config, ref now);
        var script = new ScriptReader(input.AsSpan(2));
        for (var actions = 0; actions < 64 && !script.AtEnd; actions++)
        {
            var action = script.Byte();
            switch (action % 8)
            {
                case 0:
                    now += (long)script.UInt16() * (action >= 0x80 ? TimeSpan.TicksPerSecond / 10 : TimeSpan.TicksPerMillisecond);
                    connection.Poll(now);
                    break;
                case 1:
                    connection.Write(_data.AsSpan(0, script.UInt16() % _data.Length));
                    break;
                case 2:
                    connection.Read(_data.AsSpan(0, script.UInt16() % _data.Length));
                    break;
                case 3:
                    if (script.Byte() % 2 == 0)
                    {
                        connection.Shutdown();
                    }
                    else
                    {
                        connection.Close(now);
                    }

                    break;
                case 6:
                {
                    var length = script.Byte() % 80;
                    var raw = script.Bytes(length);
                    if (TcpHeader.TryParse(raw, out var header, out var payload))
                    {
                        _segmentsIn++;
                        connection.OnSegment(header, payload, now);
                    }

                    break;
                }

                default:
                    _segmentsIn++;
                    var segment = ReadSegment(ref script, connection, action, out var payloadLength);
                    connection.OnSegment(segment, _data.AsSpan(0, payloadLength), now);
                    break;
            }

            Drain(connection, config, now);
        }

        _states[(int)connection.State & 15]++;
    }

    private void Drain(TcpConnection connection, TcpConfig config, long now)
    {
        var count = 0;
        while (connection.TryGetSegment(_segment, out var length, now))
        {
            _segmentsOut++;
            if (++count > 10_000)
            {
                throw new FuzzInvariantException("a connection emitted more than 10 000 segments without input");
            }

            if (!TcpHeader.TryParse(_segment.AsSpan(0, length), out var header, out var payload) || payload.Length > config.Mtu - 40 || header.Length > TcpHeader.MaxLength)
            {
                throw new FuzzInvariantException($"an emitted segment of {length} bytes does not parse or is above the MSS");
            }
        }

        if (connection.ReadableBytes > config.MaxReceiveBufferSize || connection.UnacknowledgedBytes > config.MaxSendBufferSize)
        {
            throw new FuzzInvariantException($"buffers above their maximum: readable {connection.ReadableBytes}, unacknowledged {connection.UnacknowledgedBytes}");
        }

        if (connection.NextDeadline < now - 1)
        {
            throw new FuzzInvariantException("the next deadline is in the past after a poll/drain");
        }
    }

    private static TcpHeader ReadSegment(ref ScriptReader script, TcpConnection connection, byte action, out int payloadLength)
    {
        var flags = (TcpFlags)script.Byte();
        var how = script.Byte();
        var seqDelta = (short)script.UInt16();
        var ackDelta = (short)script.UInt16();
        SeqNum Pick(int mode, SeqNum anchor, SeqNum other, short delta, ref ScriptReader s) => mode switch
        {
            0 => anchor + delta,
            1 => other + delta,
            2 => new SeqNum(s.UInt32()),
            _ => anchor,
        };

        var sequence = Pick(how & 3, connection.ReceiveNext, s_remoteSeq, seqDelta, ref script);
        var acknowledgment = Pick((how >> 2) & 3, connection.SendNext, connection.SendUnacknowledged, ackDelta, ref script);
        var window = script.UInt16();
        var options = script.Byte();
        var sack = SackBlocks.Empty;
        for (var i = options >> 5; i > 0 && i <= 4; i--)
        {
            var left = connection.SendUnacknowledged + (short)script.UInt16();
            sack = sack.Add(new SackBlock(left, left + (short)script.UInt16()));
        }

        payloadLength = (action >= 0x40 ? script.UInt16() : script.Byte()) % 4096;
        return new TcpHeader
        {
            SourcePort = (how & 0x80) != 0 ? (ushort)(RemotePort + 1) : RemotePort,
            DestinationPort = LocalPort,
            SequenceNumber = sequence,
            AcknowledgmentNumber = acknowledgment,
            Flags = flags,
            Window = window,
            UrgentPointer = (ushort)((how >> 4) & 1),
            MaxSegmentSize = (options & 1) != 0 ? script.UInt16() : null,
            WindowScale = (options & 2) != 0 ? script.Byte() : null,
            SackPermitted = (options & 4) != 0,
            Timestamps = (options & 8) != 0 ? new TcpTimestamps(script.UInt32(), script.UInt32()) : null,
            Sack = sack,
        };
    }

    /// <summary>Drives a fresh connection into <paramref name="state"/> with valid segments.</summary>
    private TcpConnection Build(string state, TcpConfig config, ref long now)
    {
        if (state == "SynSent")
        {
            var active = TcpConnection.Connect(s_endpoints, config, s_localSeq, now);
            Drain(active, config, now);
            return active;
        }

        var syn = new TcpHeader
        {
            SourcePort = RemotePort, DestinationPort = LocalPort, SequenceNumber = s_remoteSeq, Flags = TcpFlags.Syn, Window = 64000,
            MaxSegmentSize = 1460, WindowScale = 7, SackPermitted = true, Timestamps = new TcpTimestamps(1000, 0),
        };
        var connection = TcpConnection.Accept(s_endpoints, config, s_localSeq, syn, now);
        Drain(connection, config, now);
        if (state == "SynReceived")
        {
            return connection;
        }

        var ack = new TcpHeader
        {
            SourcePort = RemotePort, DestinationPort = LocalPort, SequenceNumber = s_remoteSeq + 1, AcknowledgmentNumber = s_localSeq + 1,
            Flags = TcpFlags.Ack, Window = 500, Timestamps = new TcpTimestamps(1001, 1),
        };
        connection.OnSegment(ack, [], now);
        var fin = ack with { Flags = TcpFlags.Ack | TcpFlags.Fin };
        var finAcked = ack with { AcknowledgmentNumber = s_localSeq + 2 };
        switch (state)
        {
            case "FinWait1":
                connection.Shutdown();
                break;
            case "FinWait2":
                connection.Shutdown();
                Drain(connection, config, now);
                connection.OnSegment(finAcked, [], now);
                break;
            case "CloseWait":
                connection.OnSegment(fin, [], now);
                break;
            case "Closing":
                connection.Shutdown();
                Drain(connection, config, now);
                connection.OnSegment(fin, [], now);
                break;
            case "LastAck":
                connection.OnSegment(fin, [], now);
                connection.Shutdown();
                break;
            case "TimeWait":
                connection.Shutdown();
                Drain(connection, config, now);
                connection.OnSegment(finAcked with { Flags = TcpFlags.Ack | TcpFlags.Fin }, [], now);
                break;
        }

        Drain(connection, config, now);
        connection.TakeEvents();
        return connection;
    }

    private static byte[] Data(short seqDelta, ushort length) =>
        [0x45, 0x18, 0x00, (byte)(seqDelta >> 8), (byte)seqDelta, 0, 0, 0x01, 0x00, 0x00, (byte)(length >> 8), (byte)length];

    private static byte[] Ack(short ackDelta) => [0x04, 0x10, 0x00, 0, 0, (byte)(ackDelta >> 8), (byte)ackDelta, 0x01, 0x00, 0x00, 0];

    /// <summary>Reads script fields; past the end every field reads as zero (a script is never invalid).</summary>
    private ref struct ScriptReader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        public readonly bool AtEnd => _at >= _bytes.Length;

        public byte Byte() => _at < _bytes.Length ? _bytes[_at++] : (byte)0;

        public ushort UInt16() => (ushort)((Byte() << 8) | Byte());

        public uint UInt32() => ((uint)UInt16() << 16) | UInt16();

        public ReadOnlySpan<byte> Bytes(int count)
        {
            var start = Math.Min(_at, _bytes.Length);
            var take = Math.Min(count, _bytes.Length - start);
            _at = start + take;
            return _bytes.Slice(start, take);
        }
    }
}
