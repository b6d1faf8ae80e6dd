using System.Buffers.Binary;
using TsNet.Control.Transport;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>noise</c>: what a ts2021 control server sends after the client's upgrade request, as the client reads it: the
/// HTTP upgrade response (<see cref="ControlUpgrade.ReadResponseAsync"/> over a <see cref="PrefixReader"/>), then the
/// Noise transport records (<see cref="ControlNoiseStream"/>: record framing, AEAD open, the early payload probe and
/// its JSON) read to the end. Byte 0 bit 0 clear: the rest is the raw stream. Set: the rest is plaintext the target
/// seals into records with the session's receive key (record sizes from byte 1), so mutated plaintext (early payload
/// magic, length, JSON) gets past authentication. Byte 0 bit 1 (raw streams): the Noise handshake answer follows the
/// HTTP head, read as ControlDialer reads it (header, payload, <see cref="ControlHandshake.ReadResponse"/> or the
/// server's error message); a fuzzer cannot forge an answer that authenticates, so the records after it are read with
/// fixed keys whatever the answer did. Documented rejection: <see cref="ControlTransportException"/>.
/// </summary>
internal sealed class ControlNoiseTarget : IFuzzTarget
{
    private static readonly byte[] s_upgrade = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: tailscale-control-protocol\r\nConnection: upgrade\r\n\r\n"u8.ToArray();
    private readonly byte[] _sendKey = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private readonly byte[] _receiveKey = Enumerable.Range(33, 32).Select(i => (byte)i).ToArray();
    private readonly byte[] _read = new byte[8192];
    private long _plaintextBytes;
    private long _earlyPayloads;
    private long _handshakes;
    private Lazy<ControlHandshake> _handshake = new(NewHandshake);

    public ControlNoiseTarget()
    {
        var early = """{"nodeKeyChallenge":"chalpub:0000000000000000000000000000000000000000000000000000000000000000"}"""u8;
        var earlyFrame = new byte[9 + early.Length];
        ControlEarlyPayload.Magic.CopyTo(earlyFrame);
        BinaryPrimitives.WriteUInt32BigEndian(earlyFrame.AsSpan(5), (uint)early.Length);
        early.CopyTo(earlyFrame.AsSpan(9));
        var http2 = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
        Corpus =
        [
            [1, 200, .. earlyFrame, .. http2],
            [1, 7, .. earlyFrame],
            [1, 0, .. http2],
            [0, .. s_upgrade, .. Seal([.. earlyFrame, .. http2], 64)],
            [0, .. s_upgrade, .. Seal(http2, 10)],
            [2, .. s_upgrade, ControlNoise.ResponseType, 0, 48, .. Enumerable.Range(0, 48).Select(i => (byte)i), .. Seal([.. earlyFrame, .. http2], 100)],
            [2, .. s_upgrade, ControlNoise.ErrorType, 0, 12, .. "server busy!"u8],
            [0, .. "HTTP/1.1 403 Forbidden\r\nContent-Length: 12\r\n\r\nnot allowed!"u8],
            [0, .. "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"u8],
        ];
    }

    public IReadOnlyList<byte[]> Corpus { get; }

    public int MaxInputLength => 12 * 1024;

    public string Describe() => $"plaintext bytes read {_plaintextBytes}, early payloads parsed {_earlyPayloads}, handshake answers read {_handshakes}";

    private static ControlHandshake NewHandshake() => new(
        MachinePrivateKey.FromBytes(Enumerable.Range(70, 32).Select(i => (byte)i).ToArray()),
        MachinePublicKey.FromBytes(Enumerable.Range(110, 32).Select(i => (byte)i).ToArray()),
        protocolVersion: 106,
        Enumerable.Range(150, 32).Select(i => (byte)i).ToArray());

    public void Execute(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        byte[] stream = (input[0] & 1) == 0
            ? input[1..]
            : [.. s_upgrade, .. Seal(input.AsSpan(Math.Min(2, input.Length)), input.Length > 1 ? input[1] : 1)];
        try
        {
            ReadAsync(stream, withHandshake: (input[0] & 3) == 2).AsTask().GetAwaiter().GetResult();
        }
        catch (ControlTransportException)
        {
        }
    }

    private async ValueTask ReadAsync(byte[] bytes, bool withHandshake)
    {
        var transport = new MemoryStream(bytes, writable: false);
        var reader = new PrefixReader(transport);
        await ControlUpgrade.ReadResponseAsync(reader, default).ConfigureAwait(false);
        if (withHandshake)
        {
            var header = await reader.ReadExactlyAsync(ControlNoise.HeaderSize, default).ConfigureAwait(false);
            if (header is null)
            {
                return;
            }

            var length = ControlHandshake.ParseServerHeader(header, out _);
            var payload = await reader.ReadExactlyAsync(length, default).ConfigureAwait(false);
            if (payload is null)
            {
                return;
            }

            try
            {
                _ = _handshake.Value.ReadResponse([.. header, .. payload]);
            }
            catch (ControlTransportException)
            {
                // Expected for everything but a genuine answer; the records are read regardless (see the summary).
            }

            _handshakes++;
            _handshake = new Lazy<ControlHandshake>(NewHandshake);
        }

        var keys = new ControlSessionKeys(_sendKey, _receiveKey, new byte[32], MachinePublicKey.FromBytes(new byte[32]), 1);
        await using var noise = new ControlNoiseStream(transport, keys, reader.Remaining, expectEarlyPayload: true);
        int read;
        while ((read = await noise.ReadAsync(_read, default).ConfigureAwait(false)) > 0)
        {
            _plaintextBytes += read;
        }

        if (await noise.EarlyPayload.ConfigureAwait(false) is not null)
        {
            _earlyPayloads++;
        }
    }

    /// <summary>Seals <paramref name="plaintext"/> as the server would, in records of up to <paramref name="recordSize"/> bytes.</summary>
    private byte[] Seal(ReadOnlySpan<byte> plaintext, int recordSize)
    {
        recordSize = Math.Clamp(recordSize * 16, 1, ControlNoise.MaxPlaintextSize);
        using var cipher = new ControlRecordCipher(_receiveKey);
        var output = new List<byte>();
        var frame = new byte[ControlNoise.MaxFrameSize];
        do
        {
            var chunk = plaintext[..Math.Min(recordSize, plaintext.Length)];
            output.AddRange(frame.AsSpan(0, cipher.Seal(chunk, frame)));
            plaintext = plaintext[chunk.Length..];
        }
        while (!plaintext.IsEmpty);
        return [.. output];
    }
}
