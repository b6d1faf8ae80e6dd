using System.Buffers.Binary;
using System.Security.Cryptography;
using TsNet.WireGuard.Crypto;

namespace TsNet.Control.Transport;

/// <summary>
/// One direction of the controlbase transport (protocol doc §6): frames <c>04 ‖ len(2, BE) ‖ ChaCha20-Poly1305</c>
/// with empty AD and the nonce 4 zero bytes ‖ counter <b>big-endian</b>, counting from 0. No rekeying: the counter
/// value 2^64-1 is never used, reaching it ends the connection. A bad tag breaks the direction for good.
/// Not thread-safe: one reader and one writer each own their instance.
/// </summary>
internal sealed class ControlRecordCipher : IDisposable
{
    private readonly byte[] _key;
    private readonly byte[] _nonce = new byte[ChaCha20Poly1305Aead.NonceSize];
    private ulong _counter;
    private bool _broken;

    public ControlRecordCipher(ReadOnlySpan<byte> key)
    {
        if (key.Length != ChaCha20Poly1305Aead.KeySize)
        {
            throw new ArgumentException($"transport keys are {ChaCha20Poly1305Aead.KeySize} bytes", nameof(key));
        }

        _key = key.ToArray();
    }

    /// <summary>The next nonce counter (= records processed so far).</summary>
    public ulong Counter => _counter;

    /// <summary>The frame size for <paramref name="plaintextLength"/> bytes of plaintext.</summary>
    public static int FrameSize(int plaintextLength) => ControlNoise.HeaderSize + plaintextLength + ControlNoise.TagSize;

    /// <summary>
    /// Checks a record header from the peer and returns the ciphertext length that follows.
    /// </summary>
    /// <exception cref="ControlTransportException">Not a record (type ≠ 4), shorter than a tag, or over 4096 bytes in all.</exception>
    public static int ParseHeader(ReadOnlySpan<byte> header)
    {
        if (header[0] != ControlNoise.RecordType)
        {
            throw new ControlTransportException($"unexpected message type {header[0]} on the control channel (expected a record)");
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(header[1..3]);
        if (length > ControlNoise.MaxCiphertextSize)
        {
            throw new ControlTransportException($"control record of {length + ControlNoise.HeaderSize} bytes exceeds the {ControlNoise.MaxFrameSize}-byte maximum");
        }

        if (length < ControlNoise.TagSize)
        {
            throw new ControlTransportException($"control record of {length} ciphertext bytes is shorter than its tag");
        }

        return length;
    }

    /// <summary>Seals one record (≤ 4077 plaintext bytes) into <paramref name="frame"/>; returns the frame length.</summary>
    public int Seal(ReadOnlySpan<byte> plaintext, Span<byte> frame)
    {
        if (plaintext.Length > ControlNoise.MaxPlaintextSize)
        {
            throw new ArgumentException($"a record carries at most {ControlNoise.MaxPlaintextSize} bytes", nameof(plaintext));
        }

        int ciphertextLength = plaintext.Length + ControlNoise.TagSize;
        int frameLength = ControlNoise.HeaderSize + ciphertextLength;
        if (frame.Length < frameLength)
        {
            throw new ArgumentException("frame buffer too small", nameof(frame));
        }

        NextNonce();
        frame[0] = ControlNoise.RecordType;
        BinaryPrimitives.WriteUInt16BigEndian(frame[1..3], (ushort)ciphertextLength);
        ChaCha20Poly1305Aead.Seal(_key, _nonce, plaintext, [], frame.Slice(ControlNoise.HeaderSize, ciphertextLength), portable: false);
        return frameLength;
    }

    /// <summary>Opens the ciphertext of one record into <paramref name="plaintext"/>; returns the plaintext length.</summary>
    /// <exception cref="ControlTransportException">Bad tag (the direction is then broken: every later call fails).</exception>
    public int Open(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (ciphertext.Length < ControlNoise.TagSize || ciphertext.Length > ControlNoise.MaxCiphertextSize)
        {
            throw new ControlTransportException($"control record of {ciphertext.Length} ciphertext bytes is out of range");
        }

        int plaintextLength = ciphertext.Length - ControlNoise.TagSize;
        NextNonce();
        if (!ChaCha20Poly1305Aead.Open(_key, _nonce, ciphertext, [], plaintext[..plaintextLength], portable: false))
        {
            _broken = true;
            throw new ControlTransportException("control record failed to authenticate; the connection is unusable");
        }

        return plaintextLength;
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);

    private void NextNonce()
    {
        if (_broken)
        {
            throw new ControlTransportException("the control channel failed earlier (bad record); reconnect");
        }

        if (_counter == ulong.MaxValue)
        {
            _broken = true;
            throw new ControlTransportException("control channel nonces exhausted; reconnect");
        }

        _nonce.AsSpan(0, 4).Clear();
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(4), _counter);
        _counter++;
    }

    /// <summary>For tests: starts counting at <paramref name="counter"/> (exhaustion and nonce-encoding checks).</summary>
    internal void SetCounterForTest(ulong counter) => _counter = counter;
}
