using System.Security.Cryptography;

namespace TsNet.Benchmarks.Crypto;

/// <summary>
/// KDF1/2/3 and HMAC-BLAKE2s as they were before issue 13's second round (every expansion HMAC compresses the
/// key's pad blocks again; byte-wise pad XOR), on <see cref="PreviousBlake2sEngine"/>: the baseline crypto-cpu
/// times the current <c>NoiseKdf</c> against in the same run.
/// </summary>
internal static class PreviousNoiseKdf
{
    private const int Size = 32;

    public static void Kdf(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, int outputs, Span<byte> t1, Span<byte> t2, Span<byte> t3)
    {
        Span<byte> prk = stackalloc byte[Size];
        Span<byte> previous = stackalloc byte[Size];
        Span<byte> next = stackalloc byte[Size];
        try
        {
            Hmac(key, input, [], prk);
            ReadOnlySpan<byte> one = [0x01];
            Hmac(prk, one, [], previous);
            previous.CopyTo(t1);
            if (outputs == 1)
            {
                return;
            }

            ReadOnlySpan<byte> two = [0x02];
            Hmac(prk, previous, two, next);
            next.CopyTo(t2);
            if (outputs == 2)
            {
                return;
            }

            ReadOnlySpan<byte> three = [0x03];
            Hmac(prk, next, three, previous);
            previous.CopyTo(t3);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(prk);
            CryptographicOperations.ZeroMemory(previous);
            CryptographicOperations.ZeroMemory(next);
        }
    }

    public static void Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> hash)
    {
        var engine = new PreviousBlake2sEngine(Size);
        engine.Update(a);
        engine.Update(b);
        engine.Finish(hash);
    }

    private static void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> output)
    {
        Span<byte> pad = stackalloc byte[64];
        Span<byte> inner = stackalloc byte[Size];
        try
        {
            pad.Clear();
            key.CopyTo(pad);
            Xor(pad, 0x36);
            var innerEngine = new PreviousBlake2sEngine(Size);
            innerEngine.Update(pad);
            innerEngine.Update(a);
            innerEngine.Update(b);
            innerEngine.Finish(inner);

            Xor(pad, 0x36 ^ 0x5c);
            var outerEngine = new PreviousBlake2sEngine(Size);
            outerEngine.Update(pad);
            outerEngine.Update(inner);
            outerEngine.Finish(output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
            CryptographicOperations.ZeroMemory(inner);
        }
    }

    private static void Xor(Span<byte> block, int value)
    {
        for (int i = 0; i < block.Length; i++)
        {
            block[i] ^= (byte)value;
        }
    }
}
