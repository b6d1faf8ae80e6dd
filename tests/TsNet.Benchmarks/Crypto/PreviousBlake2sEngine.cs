using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace TsNet.Benchmarks.Crypto;

/// <summary>
/// The scalar BLAKE2s engine as it was before issue 13 (state in a bounds-checked span), kept only so
/// HandshakePrimitiveBenchmarks can compare it with the Vector128 one in the same run.
/// BLAKE2s (RFC 7693) as a stack-only state: no heap allocation per hash, which matters because mac1 is checked
/// on every handshake message an attacker can send. Supports keyed mode and any digest length 1..32 (the length
/// is part of the parameter block, so a 16-byte MAC is not a truncated 32-byte hash).
/// </summary>
internal struct PreviousBlake2sEngine
{
    public const int BlockSize = 64;

    private static ReadOnlySpan<uint> Iv =>
    [
        0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au, 0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u,
    ];

    // RFC 7693 §2.7 message word permutations for the 10 rounds.
    private static ReadOnlySpan<byte> Sigma =>
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
        11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
        7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
        9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
        2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
        12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
        13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
        6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
        10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
    ];

    private HashState _h;
    private BlockBuffer _buffer;
    private int _buffered;
    private ulong _counter;
    private readonly int _outputLength;

    /// <summary>Starts a hash with <paramref name="outputLength"/> bytes of digest, keyed when <paramref name="key"/> is not empty.</summary>
    public PreviousBlake2sEngine(int outputLength, ReadOnlySpan<byte> key = default)
    {
        if (outputLength is < 1 or > 32 || key.Length > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(outputLength));
        }

        _outputLength = outputLength;
        Span<uint> h = _h;
        Iv.CopyTo(h);
        // Parameter block word 0: digest length, key length, fanout 1, depth 1.
        h[0] ^= 0x01010000u ^ ((uint)key.Length << 8) ^ (uint)outputLength;
        if (!key.IsEmpty)
        {
            Span<byte> block = _buffer;
            block.Clear();
            key.CopyTo(block);
            _buffered = BlockSize;
        }
    }

    public void Update(ReadOnlySpan<byte> data)
    {
        Span<byte> block = _buffer;
        while (!data.IsEmpty)
        {
            if (_buffered == BlockSize)
            {
                // Only compress a full buffer once more input follows: the last block needs the final flag.
                _counter += BlockSize;
                Compress(block, last: false);
                _buffered = 0;
            }

            var take = Math.Min(BlockSize - _buffered, data.Length);
            data[..take].CopyTo(block[_buffered..]);
            _buffered += take;
            data = data[take..];
        }
    }

    public void Finish(Span<byte> output)
    {
        Span<byte> block = _buffer;
        _counter += (ulong)_buffered;
        block[_buffered..].Clear();
        Compress(block, last: true);
        Span<byte> digest = stackalloc byte[32];
        Span<uint> h = _h;
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(digest[(i * 4)..], h[i]);
        }

        digest[.._outputLength].CopyTo(output);
        CryptographicOperations.ZeroMemory(digest);
        CryptographicOperations.ZeroMemory(block);
        h.Clear();
    }

    private void Compress(ReadOnlySpan<byte> block, bool last)
    {
        Span<uint> m = stackalloc uint[16];
        for (var i = 0; i < 16; i++)
        {
            m[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(i * 4)..]);
        }

        Span<uint> h = _h;
        Span<uint> v = stackalloc uint[16];
        h.CopyTo(v);
        Iv.CopyTo(v[8..]);
        v[12] ^= (uint)_counter;
        v[13] ^= (uint)(_counter >> 32);
        if (last)
        {
            v[14] = ~v[14];
        }

        var sigma = Sigma;
        for (var round = 0; round < 10; round++)
        {
            var s = sigma.Slice(round * 16, 16);
            G(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
            G(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
            G(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
            G(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
            G(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
            G(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
            G(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
            G(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
        }

        for (var i = 0; i < 8; i++)
        {
            h[i] ^= v[i] ^ v[i + 8];
        }

        m.Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G(Span<uint> v, int a, int b, int c, int d, uint x, uint y)
    {
        v[a] = v[a] + v[b] + x;
        v[d] = BitOperations.RotateRight(v[d] ^ v[a], 16);
        v[c] = v[c] + v[d];
        v[b] = BitOperations.RotateRight(v[b] ^ v[c], 12);
        v[a] = v[a] + v[b] + y;
        v[d] = BitOperations.RotateRight(v[d] ^ v[a], 8);
        v[c] = v[c] + v[d];
        v[b] = BitOperations.RotateRight(v[b] ^ v[c], 7);
    }

    [InlineArray(8)]
    private struct HashState
    {
        private uint _element;
    }

    [InlineArray(BlockSize)]
    private struct BlockBuffer
    {
        private byte _element;
    }
}
