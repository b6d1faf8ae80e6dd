using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>X25519 (RFC 7748), on libcrypto where it loads and on our own ladder otherwise.</summary>
/// <remarks>
/// <para>
/// libcrypto's X25519 (<see cref="OpenSslX25519"/>) runs assembly field arithmetic and is about twice as fast as
/// the ladder here; it is called without managed allocation, so a replayed or forged initiation (two DHs, sent by
/// anyone) still allocates nothing. The backend is chosen once per process (<see cref="AutoBackend"/>), the same
/// pattern as <see cref="TransportCipher.AutoBackend"/>.
/// </para>
/// <para>
/// The portable fallback is our own Montgomery ladder over <see cref="Field25519"/>: every call works in stack
/// memory only, runs the same instruction sequence whatever the key, and wipes its secret state before
/// returning. (Registers and spill slots of the field routines cannot be wiped from managed code.)
/// </para>
/// </remarks>
internal static class X25519
{
    public const int KeySize = 32;

    // (A - 2) / 4 for Curve25519's A = 486662, the constant of RFC 7748 §5's ladder step.
    private const uint A24 = 121665;

    // The u-coordinate of the base point, 9.
    private static ReadOnlySpan<byte> BasePoint =>
    [
        9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// <summary>
    /// libcrypto when it loads and reproduces RFC 7748's known answers (<see cref="OpenSslX25519.IsSupported"/>),
    /// else the managed ladder. Measured with tests/TsNet.Benchmarks X25519Benchmarks.
    /// </summary>
    public static X25519Backend AutoBackend { get; } = OpenSslX25519.IsSupported ? X25519Backend.OpenSsl : X25519Backend.Managed;

    /// <summary>
    /// The backend of the overloads without one and of new <see cref="X25519StaticKey"/>s: <see cref="AutoBackend"/>
    /// unless a benchmark switches it (once, before it builds endpoints) to compare backends in one process.
    /// </summary>
    internal static X25519Backend Backend { get; set; } = AutoBackend;

    /// <summary>32 random bytes, clamped.</summary>
    public static void GeneratePrivateKey(Span<byte> privateKey)
    {
        CheckKeyLength(privateKey.Length, nameof(privateKey));
        RandomNumberGenerator.Fill(privateKey);
        ClampPrivateKey(privateKey);
    }

    public static void ClampPrivateKey(Span<byte> privateKey)
    {
        CheckKeyLength(privateKey.Length, nameof(privateKey));
        privateKey[0] &= 248;
        privateKey[31] = (byte)((privateKey[31] & 127) | 64);
    }

    /// <summary>
    /// X25519(privateKey, 9) by the fixed-base table (<see cref="X25519FixedBase"/>), whatever the backend: about
    /// 26 µs against 36 µs for libcrypto's variable-base DH with u = 9 and 39 µs for its own public-key
    /// computation (crypto-cpu, one core). The output may alias the input.
    /// </summary>
    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey) =>
        X25519FixedBase.DerivePublicKey(privateKey, publicKey);

    /// <summary>X25519(privateKey, 9) as a variable-base DH on the given backend (tests and benchmarks compare them). The output may alias the input.</summary>
    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey, X25519Backend backend)
    {
        CheckKeyLength(privateKey.Length, nameof(privateKey));
        CheckKeyLength(publicKey.Length, nameof(publicKey));
        if (Resolve(backend) == X25519Backend.OpenSsl)
        {
            OpenSslX25519.DerivePublicKey(privateKey, publicKey);
        }
        else
        {
            ScalarMult(privateKey, BasePoint, publicKey);
        }
    }

    /// <summary>False when the result is all zero (low-order point): the caller must reject.</summary>
    public static bool TrySharedSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret) =>
        TrySharedSecret(privateKey, publicKey, sharedSecret, Backend);

    /// <summary>
    /// X25519(privateKey, publicKey) on the given backend; false, with an all-zero output, when the result is all
    /// zero. Both backends clamp the scalar themselves, ignore bit 255 of u and treat u in [p, 2^255) as its
    /// residue. The output may alias the inputs.
    /// </summary>
    public static bool TrySharedSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret, X25519Backend backend)
    {
        CheckKeyLength(privateKey.Length, nameof(privateKey));
        CheckKeyLength(publicKey.Length, nameof(publicKey));
        CheckKeyLength(sharedSecret.Length, nameof(sharedSecret));
        if (Resolve(backend) == X25519Backend.OpenSsl)
        {
            return OpenSslX25519.TrySharedSecret(privateKey, publicKey, sharedSecret);
        }

        ScalarMult(privateKey, publicKey, sharedSecret);
        return !IsAllZero(sharedSecret);
    }

    /// <summary>Whether <paramref name="backend"/> can be used in this process.</summary>
    public static bool IsSupported(X25519Backend backend) => backend switch
    {
        X25519Backend.Auto or X25519Backend.Managed => true,
        X25519Backend.OpenSsl => OpenSslX25519.IsSupported,
        _ => false,
    };

    /// <summary>The backend <paramref name="backend"/> stands for here (never Auto); throws when it cannot run.</summary>
    internal static X25519Backend Resolve(X25519Backend backend) => backend switch
    {
        X25519Backend.Auto => AutoBackend,
        X25519Backend.Managed => X25519Backend.Managed,
        X25519Backend.OpenSsl when OpenSslX25519.IsSupported => X25519Backend.OpenSsl,
        X25519Backend.OpenSsl => throw new PlatformNotSupportedException("libcrypto X25519 is not available."),
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown X25519 backend."),
    };

    /// <summary>
    /// RFC 7748 §5: X25519(k, u) with k clamped and bit 255 of u ignored; u values in [p, 2^255) are used as
    /// their residues. Both inputs are consumed before the output is written, so the output may alias them.
    /// </summary>
    private static void ScalarMult(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> u, Span<byte> output)
    {
        LadderState s = default;
        try
        {
            // Clamp a copy: the caller's key is read-only, and clamping inside makes unclamped keys safe too.
            scalar.CopyTo(s.Scalar);
            ClampPrivateKey(s.Scalar);
            Field25519.FromBytes(u, out s.X1);
            s.X2 = Field25519.One;
            s.Z2 = Field25519.Zero;
            s.X3 = s.X1;
            s.Z3 = Field25519.One;

            // (x2 : z2) = [m]P and (x3 : z3) = [m + 1]P for the scalar prefix m read so far. Rather than branch on
            // each bit, the pair is swapped when the bit changes from the previous one; the masks make the
            // swap cost the same whether or not it happens.
            ulong swap = 0;
            for (int t = 254; t >= 0; t--)
            {
                ulong bit = (ulong)(s.Scalar[t >> 3] >> (t & 7)) & 1;
                swap ^= bit;
                Field25519.ConditionalSwap(ref s.X2, ref s.X3, swap);
                Field25519.ConditionalSwap(ref s.Z2, ref s.Z3, swap);
                swap = bit;
                LadderStep(ref s);
            }

            Field25519.ConditionalSwap(ref s.X2, ref s.X3, swap);
            Field25519.ConditionalSwap(ref s.Z2, ref s.Z3, swap);

            // x2 / z2. A low-order u makes z2 zero; Fermat inversion maps 0 to 0, so the result is the all-zero
            // value RFC 7748 §6.1 says to check for.
            Field25519.Invert(out s.A, s.Z2);
            Field25519.Mul(out s.X2, s.X2, s.A);
            s.X2.ToBytes(output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(new Span<LadderState>(ref s)));
        }
    }

    // One combined differential addition and doubling, RFC 7748 §5, operand for operand.
    private static void LadderStep(ref LadderState s)
    {
        Field25519.Add(out s.A, s.X2, s.Z2);         // A = x2 + z2
        Field25519.Square(out s.AA, s.A);            // AA = A^2
        Field25519.Sub(out s.B, s.X2, s.Z2);         // B = x2 - z2
        Field25519.Square(out s.BB, s.B);            // BB = B^2
        Field25519.Sub(out s.E, s.AA, s.BB);         // E = AA - BB
        Field25519.Add(out s.C, s.X3, s.Z3);         // C = x3 + z3
        Field25519.Sub(out s.D, s.X3, s.Z3);         // D = x3 - z3
        Field25519.Mul(out s.DA, s.D, s.A);          // DA = D * A
        Field25519.Mul(out s.CB, s.C, s.B);          // CB = C * B
        Field25519.Add(out s.X3, s.DA, s.CB);
        Field25519.Square(out s.X3, s.X3);           // x3 = (DA + CB)^2
        Field25519.Sub(out s.Z3, s.DA, s.CB);
        Field25519.Square(out s.Z3, s.Z3);
        Field25519.Mul(out s.Z3, s.X1, s.Z3);        // z3 = x1 * (DA - CB)^2
        Field25519.Mul(out s.X2, s.AA, s.BB);        // x2 = AA * BB
        Field25519.MulSmall(out s.Z2, s.E, A24);
        Field25519.Add(out s.Z2, s.AA, s.Z2);
        Field25519.Mul(out s.Z2, s.E, s.Z2);         // z2 = E * (AA + a24 * E)
    }

    // Constant time: the shared secret must not leak through early exit timing.
    private static bool IsAllZero(ReadOnlySpan<byte> value)
    {
        int accumulator = 0;
        foreach (byte b in value)
        {
            accumulator |= b;
        }

        return accumulator == 0;
    }

    private static void CheckKeyLength(int length, string paramName)
    {
        if (length != KeySize)
        {
            throw new ArgumentException($"X25519 keys are {KeySize} bytes.", paramName);
        }
    }

    // All secret-dependent ladder state in one struct, so a single wipe clears it.
    [StructLayout(LayoutKind.Sequential)]
    private struct LadderState
    {
        public ScalarBytes Scalar;
        public Field25519 X1;
        public Field25519 X2;
        public Field25519 Z2;
        public Field25519 X3;
        public Field25519 Z3;
        public Field25519 A;
        public Field25519 AA;
        public Field25519 B;
        public Field25519 BB;
        public Field25519 E;
        public Field25519 C;
        public Field25519 D;
        public Field25519 DA;
        public Field25519 CB;
    }

    [System.Runtime.CompilerServices.InlineArray(KeySize)]
    private struct ScalarBytes
    {
        private byte _element0;
    }
}
