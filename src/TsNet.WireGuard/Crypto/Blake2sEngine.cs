using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// BLAKE2s (RFC 7693) as a stack-only state: no heap allocation per hash, which matters because mac1 is checked
/// on every handshake message an attacker can send. Supports keyed mode and any digest length 1..32 (the length
/// is part of the parameter block, so a 16-byte MAC is not a truncated 32-byte hash).
/// </summary>
internal struct Blake2sEngine
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

    // Sigma rearranged for the vector message schedule: per round, the word indices of the four G inputs in the
    // order the rows take them — (s0 s2 s4 s6), (s1 s3 s5 s7), then the diagonal step's (s8 s10 s12 s14),
    // (s9 s11 s13 s15) — so one permute per eight words replaces sixteen scalar loads and inserts.
    private static readonly uint[] s_schedule = BuildSchedule();

    private HashState _h;
    private BlockBuffer _buffer;
    private int _buffered;
    private ulong _counter;
    private readonly int _outputLength;

    /// <summary>Starts a hash with <paramref name="outputLength"/> bytes of digest, keyed when <paramref name="key"/> is not empty.</summary>
    public Blake2sEngine(int outputLength, ReadOnlySpan<byte> key = default)
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

    /// <summary>
    /// Compresses <paramref name="block"/> as the first block of a message that is known to continue (an HMAC key
    /// block), so a copy of this state can be reused for many messages under the same key. Only on a fresh,
    /// unkeyed engine.
    /// </summary>
    public void AbsorbFirstBlock(ReadOnlySpan<byte> block)
    {
        if (_counter != 0 || _buffered != 0 || block.Length != BlockSize)
        {
            throw new InvalidOperationException("Only a fresh unkeyed engine absorbs a first block.");
        }

        _counter = BlockSize;
        Compress(block, last: false);
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

    // The 4×4 working state as four rows of Vector128 (one G per lane): the column step runs the four column Gs at
    // once, rotating rows 2–4 lines the diagonals up for the diagonal step. The same instructions run whatever the
    // data (constant time), and the state stays in registers rather than in a bounds-checked span.
    private void Compress(ReadOnlySpan<byte> block, bool last)
    {
        if (Avx2.IsSupported)
        {
            CompressAvx2(block, last);
        }
        else
        {
            CompressPortable(block, last);
        }
    }

    // The same rows as CompressPortable, with the message words kept in two Vector256 registers and each G input
    // picked by one permute per half (vpermd) and a blend; rotations by 16 and 8 are byte shuffles, and with
    // AVX-512VL every rotation is one vprord.
    private void CompressAvx2(ReadOnlySpan<byte> block, bool last)
    {
        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(block[..BlockSize]);
        var low = Vector256.Create(words[..8]);
        var high = Vector256.Create(words[8..]);

        LoadRows(last, out var row1, out var row2, out var row3, out var row4);

        ref uint schedule = ref MemoryMarshal.GetArrayDataReference(s_schedule);
        var seven = Vector256.Create(7u);
        for (nuint round = 0; round < 10; round++)
        {
            var columnIndices = Vector256.LoadUnsafe(ref schedule, round * 16);
            var diagonalIndices = Vector256.LoadUnsafe(ref schedule, (round * 16) + 8);
            var column = Vector256.ConditionalSelect(
                Vector256.GreaterThan(columnIndices, seven),
                Avx2.PermuteVar8x32(high, columnIndices),
                Avx2.PermuteVar8x32(low, columnIndices));
            var diagonal = Vector256.ConditionalSelect(
                Vector256.GreaterThan(diagonalIndices, seven),
                Avx2.PermuteVar8x32(high, diagonalIndices),
                Avx2.PermuteVar8x32(low, diagonalIndices));

            GVector(ref row1, ref row2, ref row3, ref row4, column.GetLower(), column.GetUpper());
            Diagonalize(ref row2, ref row3, ref row4);
            GVector(ref row1, ref row2, ref row3, ref row4, diagonal.GetLower(), diagonal.GetUpper());
            Undiagonalize(ref row2, ref row3, ref row4);
        }

        FoldRows(row1, row2, row3, row4);
    }

    // The portable form, for CPUs without AVX2.
    private void CompressPortable(ReadOnlySpan<byte> block, bool last)
    {
        MessageWords m = default;
        Span<uint> words = m;
        for (var i = 0; i < 16; i++)
        {
            words[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(i * 4)..]);
        }

        LoadRows(last, out var row1, out var row2, out var row3, out var row4);

        var sigma = Sigma;
        for (var round = 0; round < 10; round++)
        {
            var s = sigma.Slice(round * 16, 16);
            G(ref row1, ref row2, ref row3, ref row4,
                Vector128.Create(words[s[0]], words[s[2]], words[s[4]], words[s[6]]),
                Vector128.Create(words[s[1]], words[s[3]], words[s[5]], words[s[7]]));

            Diagonalize(ref row2, ref row3, ref row4);
            G(ref row1, ref row2, ref row3, ref row4,
                Vector128.Create(words[s[8]], words[s[10]], words[s[12]], words[s[14]]),
                Vector128.Create(words[s[9]], words[s[11]], words[s[13]], words[s[15]]));
            Undiagonalize(ref row2, ref row3, ref row4);
        }

        FoldRows(row1, row2, row3, row4);
        words.Clear();
    }

    // The working vector v0..v15 as four rows: the chain value, then the IV with the counter and the last-block flag.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LoadRows(bool last, out Vector128<uint> row1, out Vector128<uint> row2, out Vector128<uint> row3, out Vector128<uint> row4)
    {
        ReadOnlySpan<uint> h = _h;
        ReadOnlySpan<uint> iv = Iv;
        row1 = Vector128.Create(h[..4]);
        row2 = Vector128.Create(h[4..]);
        row3 = Vector128.Create(iv[..4]);
        row4 = Vector128.Create(iv[4..]) ^ Vector128.Create((uint)_counter, (uint)(_counter >> 32), last ? uint.MaxValue : 0u, 0u);
    }

    // h ^= v[0..8] ^ v[8..16].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FoldRows(Vector128<uint> row1, Vector128<uint> row2, Vector128<uint> row3, Vector128<uint> row4)
    {
        Span<uint> h = _h;
        (Vector128.Create((ReadOnlySpan<uint>)h[..4]) ^ row1 ^ row3).CopyTo(h[..4]);
        (Vector128.Create((ReadOnlySpan<uint>)h[4..]) ^ row2 ^ row4).CopyTo(h[4..]);
    }

    // Lane i of each row then holds the i-th diagonal (v0 v5 v10 v15, v1 v6 v11 v12, ...); Undiagonalize goes back.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Diagonalize(ref Vector128<uint> row2, ref Vector128<uint> row3, ref Vector128<uint> row4)
    {
        row2 = Vector128.Shuffle(row2, Vector128.Create(1u, 2u, 3u, 0u));
        row3 = Vector128.Shuffle(row3, Vector128.Create(2u, 3u, 0u, 1u));
        row4 = Vector128.Shuffle(row4, Vector128.Create(3u, 0u, 1u, 2u));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Undiagonalize(ref Vector128<uint> row2, ref Vector128<uint> row3, ref Vector128<uint> row4)
    {
        row2 = Vector128.Shuffle(row2, Vector128.Create(3u, 0u, 1u, 2u));
        row3 = Vector128.Shuffle(row3, Vector128.Create(2u, 3u, 0u, 1u));
        row4 = Vector128.Shuffle(row4, Vector128.Create(1u, 2u, 3u, 0u));
    }

    // RFC 7693 §3.1's G on four (a, b, c, d) quadruples at once.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G(ref Vector128<uint> a, ref Vector128<uint> b, ref Vector128<uint> c, ref Vector128<uint> d, Vector128<uint> x, Vector128<uint> y)
    {
        a = a + b + x;
        d = RotateRight(d ^ a, 16);
        c += d;
        b = RotateRight(b ^ c, 12);
        a = a + b + y;
        d = RotateRight(d ^ a, 8);
        c += d;
        b = RotateRight(b ^ c, 7);
    }

    // G with the x86 rotations: vprord where AVX-512VL exists, else byte shuffles for 16 and 8.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GVector(ref Vector128<uint> a, ref Vector128<uint> b, ref Vector128<uint> c, ref Vector128<uint> d, Vector128<uint> x, Vector128<uint> y)
    {
        a = a + b + x;
        d = RotateRight16(d ^ a);
        c += d;
        b = RotateRight12(b ^ c);
        a = a + b + y;
        d = RotateRight8(d ^ a);
        c += d;
        b = RotateRight7(b ^ c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> RotateRight12(Vector128<uint> value) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(value, 12) : RotateRight(value, 12);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> RotateRight7(Vector128<uint> value) =>
        Avx512F.VL.IsSupported ? Avx512F.VL.RotateRight(value, 7) : RotateRight(value, 7);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> RotateRight16(Vector128<uint> value) =>
        Avx512F.VL.IsSupported
            ? Avx512F.VL.RotateRight(value, 16)
            : Ssse3.Shuffle(value.AsByte(), Vector128.Create((byte)2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)).AsUInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> RotateRight8(Vector128<uint> value) =>
        Avx512F.VL.IsSupported
            ? Avx512F.VL.RotateRight(value, 8)
            : Ssse3.Shuffle(value.AsByte(), Vector128.Create((byte)1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12)).AsUInt32();

    private static uint[] BuildSchedule()
    {
        ReadOnlySpan<int> order = [0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15];
        var schedule = new uint[10 * 16];
        for (var round = 0; round < 10; round++)
        {
            for (var i = 0; i < 16; i++)
            {
                schedule[(round * 16) + i] = Sigma[(round * 16) + order[i]];
            }
        }

        return schedule;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> RotateRight(Vector128<uint> value, [ConstantExpected] int count) =>
        Vector128.ShiftRightLogical(value, count) | Vector128.ShiftLeft(value, 32 - count);

    [InlineArray(16)]
    private struct MessageWords
    {
        private uint _element;
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
