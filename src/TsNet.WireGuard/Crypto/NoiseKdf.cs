using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>WireGuard's HKDF-style KDF1/2/3 over HMAC-BLAKE2s.</summary>
internal static class NoiseKdf
{
    public const int OutputSize = Blake2s.HashSize;

    public static void Kdf1(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t1)
        => Kdf(key, input, 1, t1, [], []);

    public static void Kdf2(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t1, Span<byte> t2)
        => Kdf(key, input, 2, t1, t2, []);

    public static void Kdf3(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> t1, Span<byte> t2, Span<byte> t3)
        => Kdf(key, input, 3, t1, t2, t3);

    // Outputs may alias key or input (MixKey overwrites the chaining key), so every read of them
    // happens before the first output is written; T(n) is derived from T(n-1) held on the stack.
    private static void Kdf(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, int outputs, Span<byte> t1, Span<byte> t2, Span<byte> t3)
    {
        CheckOutput(t1, nameof(t1));
        if (outputs >= 2)
        {
            CheckOutput(t2, nameof(t2));
        }

        if (outputs >= 3)
        {
            CheckOutput(t3, nameof(t3));
        }

        Span<byte> prk = stackalloc byte[OutputSize];
        Span<byte> previous = stackalloc byte[OutputSize];
        Span<byte> next = stackalloc byte[OutputSize];
        Blake2sHmac expand = default;
        try
        {
            Blake2s.Hmac(key, input, prk);
            // Every expansion MACs under prk: its pad blocks are compressed once for the two or three outputs.
            expand = new Blake2sHmac(prk);
            ReadOnlySpan<byte> one = [0x01];
            expand.Compute(one, [], previous);
            previous.CopyTo(t1);
            if (outputs == 1)
            {
                return;
            }

            ReadOnlySpan<byte> two = [0x02];
            expand.Compute(previous, two, next);
            next.CopyTo(t2);
            if (outputs == 2)
            {
                return;
            }

            ReadOnlySpan<byte> three = [0x03];
            expand.Compute(next, three, previous);
            previous.CopyTo(t3);
        }
        finally
        {
            expand.Clear();
            CryptographicOperations.ZeroMemory(prk);
            CryptographicOperations.ZeroMemory(previous);
            CryptographicOperations.ZeroMemory(next);
        }
    }

    private static void CheckOutput(Span<byte> output, string paramName)
    {
        if (output.Length != OutputSize)
        {
            throw new ArgumentException($"KDF outputs are {OutputSize} bytes.", paramName);
        }
    }
}
