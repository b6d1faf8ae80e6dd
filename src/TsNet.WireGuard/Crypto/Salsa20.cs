using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// Salsa20/20 and HSalsa20 (Bernstein, "Extending the Salsa20 nonce"), the stream cipher under NaCl's box.
/// Ours rather than a library's: HSalsa20 is exposed by none we may use, and both share one core; stack only,
/// so sealing a disco message allocates nothing.
/// </summary>
internal static class Salsa20
{
    public const int KeySize = 32;
    public const int BlockSize = 64;
    public const int HSalsaInputSize = 16;
    public const int NonceSize = 8;

    // "expand 32-byte k" as four little-endian words, at state positions 0, 5, 10, 15.
    private const uint Sigma0 = 0x61707865;
    private const uint Sigma1 = 0x3320646e;
    private const uint Sigma2 = 0x79622d32;
    private const uint Sigma3 = 0x6b206574;

    /// <summary>HSalsa20: the core without feed-forward; output = words 0, 5, 10, 15, 6, 7, 8, 9.</summary>
    public static void HSalsa20(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input16, Span<byte> output32)
    {
        Check(key.Length == KeySize, nameof(key));
        Check(input16.Length == HSalsaInputSize, nameof(input16));
        Check(output32.Length == KeySize, nameof(output32));
        Span<uint> x = stackalloc uint[16];
        try
        {
            InitState(x, key, input16);
            DoubleRounds(x);
            ReadOnlySpan<int> picks = [0, 5, 10, 15, 6, 7, 8, 9];
            for (int i = 0; i < picks.Length; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(output32[(4 * i)..], x[picks[i]]);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(x));
        }
    }

    /// <summary>
    /// output = input XOR Salsa20(key, nonce) keystream, starting <paramref name="keystreamOffset"/> bytes into the
    /// stream (block counter 0 first). <paramref name="output"/> may be <paramref name="input"/> exactly (in place).
    /// </summary>
    public static void XorKeyStream(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce8, int keystreamOffset, ReadOnlySpan<byte> input, Span<byte> output)
    {
        Check(key.Length == KeySize, nameof(key));
        Check(nonce8.Length == NonceSize, nameof(nonce8));
        Check(output.Length == input.Length, nameof(output));
        ArgumentOutOfRangeException.ThrowIfNegative(keystreamOffset);
        Span<byte> block = stackalloc byte[BlockSize];
        ulong counter = (ulong)(keystreamOffset / BlockSize);
        int skip = keystreamOffset % BlockSize;
        try
        {
            int done = 0;
            while (done < input.Length)
            {
                Block(key, nonce8, counter++, block);
                int take = Math.Min(BlockSize - skip, input.Length - done);
                for (int i = 0; i < take; i++)
                {
                    output[done + i] = (byte)(input[done + i] ^ block[skip + i]);
                }

                done += take;
                skip = 0;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(block);
        }
    }

    /// <summary>One 64-byte keystream block: the core with feed-forward, nonce at words 6–7, counter at 8–9.</summary>
    public static void Block(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce8, ulong counter, Span<byte> block)
    {
        Check(block.Length == BlockSize, nameof(block));
        Span<byte> input = stackalloc byte[HSalsaInputSize];
        nonce8.CopyTo(input);
        BinaryPrimitives.WriteUInt64LittleEndian(input[NonceSize..], counter);
        Span<uint> initial = stackalloc uint[16];
        Span<uint> x = stackalloc uint[16];
        try
        {
            InitState(initial, key, input);
            initial.CopyTo(x);
            DoubleRounds(x);
            for (int i = 0; i < 16; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(block[(4 * i)..], x[i] + initial[i]);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(initial));
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(x));
        }
    }

    private static void InitState(Span<uint> x, ReadOnlySpan<byte> key, ReadOnlySpan<byte> input16)
    {
        x[0] = Sigma0;
        x[5] = Sigma1;
        x[10] = Sigma2;
        x[15] = Sigma3;
        for (int i = 0; i < 4; i++)
        {
            x[1 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
            x[11 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(16 + (4 * i))..]);
            x[6 + i] = BinaryPrimitives.ReadUInt32LittleEndian(input16[(4 * i)..]);
        }
    }

    // 20 rounds = 10 double rounds: a column round then a row round.
    private static void DoubleRounds(Span<uint> x)
    {
        for (int i = 0; i < 10; i++)
        {
            QuarterRound(x, 0, 4, 8, 12);
            QuarterRound(x, 5, 9, 13, 1);
            QuarterRound(x, 10, 14, 2, 6);
            QuarterRound(x, 15, 3, 7, 11);
            QuarterRound(x, 0, 1, 2, 3);
            QuarterRound(x, 5, 6, 7, 4);
            QuarterRound(x, 10, 11, 8, 9);
            QuarterRound(x, 15, 12, 13, 14);
        }
    }

    private static void QuarterRound(Span<uint> x, int a, int b, int c, int d)
    {
        x[b] ^= BitOperations.RotateLeft(x[a] + x[d], 7);
        x[c] ^= BitOperations.RotateLeft(x[b] + x[a], 9);
        x[d] ^= BitOperations.RotateLeft(x[c] + x[b], 13);
        x[a] ^= BitOperations.RotateLeft(x[d] + x[c], 18);
    }

    private static void Check(bool ok, string paramName)
    {
        if (!ok)
        {
            throw new ArgumentException("Wrong length.", paramName);
        }
    }
}
