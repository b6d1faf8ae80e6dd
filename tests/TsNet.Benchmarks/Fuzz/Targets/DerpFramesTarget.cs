using System.Text;
using TsNet.Derp;
using TsNet.WireGuard.Crypto;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>derp</c>: a whole server-to-client DERP byte stream through <see cref="DerpFrameReader"/> and
/// <see cref="DerpFrameParser"/> in the order the client reads it (DerpConnection: HTTP 101 head, ServerKey, then
/// frames dispatched as its read loop does: RecvPacket, control frames up to 4 KiB, skipped others), plus the
/// ServerInfo JSON parser on the frame's plaintext. Documented rejections: <see cref="DerpProtocolException"/> and
/// <see cref="EndOfStreamException"/> (the stream ended).
/// </summary>
internal sealed class DerpFramesTarget : IFuzzTarget
{
    private const int ControlScratchSize = 4096;
    private static readonly byte[] s_clientPrivate = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] s_serverPrivate = Enumerable.Range(101, 32).Select(i => (byte)i).ToArray();

    private readonly byte[] _sharedKey = new byte[32];
    private readonly byte[] _scratch = new byte[ControlScratchSize];
    private readonly byte[] _packet = new byte[DerpProtocol.KeySize + DerpProtocol.MaxPacketSize];
    private readonly byte[] _key = new byte[DerpProtocol.KeySize];
    private readonly byte[] _pingData = new byte[DerpProtocol.PingDataSize];

    public DerpFramesTarget()
    {
        var serverPublic = new byte[32];
        X25519.DerivePublicKey(s_serverPrivate, serverPublic);
        if (!NaClBox.TryPrecompute(s_clientPrivate, serverPublic, _sharedKey))
        {
            throw new InvalidOperationException("fixed keys do not agree");
        }

        var head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\nDerp-Version: 2\r\n\r\n"u8.ToArray();
        var serverKey = Frame(DerpFrameType.ServerKey, [.. DerpProtocol.Magic, .. serverPublic]);
        var json = """{"version":2,"TokenBucketBytesPerSecond":1048576,"TokenBucketBytesBurst":2097152}"""u8.ToArray();
        var nonce = Enumerable.Range(7, DerpProtocol.NonceSize).Select(i => (byte)i).ToArray();
        var box = new byte[json.Length + NaClBox.Overhead];
        NaClBox.Seal(_sharedKey, nonce, json, box);
        var serverInfo = Frame(DerpFrameType.ServerInfo, [.. nonce, .. box]);
        var plainInfo = Frame(DerpFrameType.ServerInfo, [.. nonce, .. new byte[NaClBox.Overhead], .. json]);
        var recv = Frame(DerpFrameType.RecvPacket, [.. serverPublic, .. Enumerable.Range(0, 148).Select(i => (byte)i)]);
        var ping = Frame(DerpFrameType.Ping, [1, 2, 3, 4, 5, 6, 7, 8]);
        var pong = Frame(DerpFrameType.Pong, [8, 7, 6, 5, 4, 3, 2, 1]);
        var gone = Frame(DerpFrameType.PeerGone, [.. serverPublic, 1]);
        var present = Frame(DerpFrameType.PeerPresent, [.. serverPublic]);
        var health = Frame(DerpFrameType.Health, "region overloaded"u8.ToArray());
        var keepAlive = Frame(DerpFrameType.KeepAlive, []);
        var restarting = Frame(DerpFrameType.Restarting, [0, 0, 0x03, 0xE8, 0, 0, 0x75, 0x30]);
        byte[] Stream(params byte[][] frames) => [.. head, .. serverKey, .. frames.SelectMany(f => f)];
        Corpus =
        [
            Stream(serverInfo, recv, ping, keepAlive, pong),
            Stream(plainInfo, gone, present, health),
            Stream(serverInfo, Frame(DerpFrameType.Health, []), recv, recv, restarting),
            Stream(recv, gone, Frame(DerpFrameType.PeerGone, [.. serverPublic])),
            Stream(),
        ];
    }

    public IReadOnlyList<byte[]> Corpus { get; }

    public int MaxInputLength => 8192;

    public long Frames { get; private set; }

    public string Describe() => $"frames read after the ServerKey {Frames}";

    public void Execute(byte[] input)
    {
        try
        {
            ReadAsync(new MemoryStream(input, writable: false)).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is DerpProtocolException or EndOfStreamException)
        {
        }
    }

    private async ValueTask ReadAsync(Stream stream)
    {
        var reader = new DerpFrameReader(stream);
        var head = await reader.ReadHttpHeadAsync(default).ConfigureAwait(false);
        var parts = head.Split("\r\n", 2)[0].Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || parts[1] != "101")
        {
            return;
        }

        var header = await reader.ReadHeaderAsync(default).ConfigureAwait(false);
        if (header.Type != DerpFrameType.ServerKey || header.Length < DerpProtocol.ServerKeyMinLength || header.Length > 1024)
        {
            return;
        }

        var keyFrame = new byte[header.Length];
        await reader.ReadPayloadAsync(keyFrame, default).ConfigureAwait(false);
        if (!DerpFrameParser.TryParseServerKey(keyFrame, _key))
        {
            return;
        }

        for (var frames = 0; frames < 64; frames++)
        {
            header = await reader.ReadHeaderAsync(default).ConfigureAwait(false);
            Frames++;
            if (header.Type == DerpFrameType.RecvPacket)
            {
                if (!DerpFrameParser.IsValidRecvPacketLength(header.Length))
                {
                    return;
                }

                await reader.ReadPayloadAsync(_packet.AsMemory(0, (int)header.Length), default).ConfigureAwait(false);
                continue;
            }

            if (header.Length > ControlScratchSize || header.Type is not (DerpFrameType.Ping or DerpFrameType.Pong
                or DerpFrameType.PeerGone or DerpFrameType.ServerInfo or DerpFrameType.Health or DerpFrameType.Restarting))
            {
                await reader.SkipAsync(header.Length, default).ConfigureAwait(false);
                continue;
            }

            var payload = _scratch.AsMemory(0, (int)header.Length);
            await reader.ReadPayloadAsync(payload, default).ConfigureAwait(false);
            switch (header.Type)
            {
                case DerpFrameType.Ping or DerpFrameType.Pong:
                    DerpFrameParser.TryParsePingData(payload.Span, _pingData);
                    break;
                case DerpFrameType.PeerGone:
                    DerpFrameParser.TryParsePeerGone(payload.Span, _key, out _);
                    break;
                case DerpFrameType.ServerInfo:
                    DerpFrameParser.TryParseServerInfo(payload.Span, _sharedKey, new byte[payload.Length], out _);
                    if (payload.Length >= DerpProtocol.NonceSize + NaClBox.Overhead)
                    {
                        DerpServerInfo.TryParse(payload.Span[(DerpProtocol.NonceSize + NaClBox.Overhead)..], out _);
                    }

                    break;
                case DerpFrameType.Health:
                    _ = Encoding.UTF8.GetString(payload.Span);
                    break;
                case DerpFrameType.Restarting:
                    if (DerpFrameParser.TryParseRestarting(payload.Span, out _, out _))
                    {
                        return;
                    }

                    break;
            }
        }
    }

    private static byte[] Frame(DerpFrameType type, byte[] payload)
    {
        var frame = new byte[DerpProtocol.FrameHeaderSize + payload.Length];
        DerpFrameHeader.Write(frame, type, payload.Length);
        payload.CopyTo(frame, DerpProtocol.FrameHeaderSize);
        return frame;
    }
}
