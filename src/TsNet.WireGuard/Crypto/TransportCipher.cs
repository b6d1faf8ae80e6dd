namespace TsNet.WireGuard.Crypto;

/// <summary>
/// ChaCha20-Poly1305 for transport data under one key, keeping the backend's per-key context across packets.
/// Empty associated data, nonce = 4 zero bytes ‖ counter LE. Not thread-safe: one owner at a time.
/// </summary>
internal abstract class TransportCipher : IDisposable
{
    public const int KeySize = ChaCha20Poly1305Aead.KeySize;
    public const int TagSize = ChaCha20Poly1305Aead.TagSize;

    /// <summary>
    /// The backend <see cref="TransportCipherBackend.Auto"/> resolves to, decided once per process.
    /// Order measured on the project's machines (tests/TsNet.Benchmarks/run-aead-bench.sh, seal, GB/s at
    /// 64 / 1420 / 8192 B): direct libcrypto 0.14 / 1.48 / 3.69, BCL 0.07 / 1.06 / 3.19, BouncyCastle
    /// 0.06 / 0.17 / 0.16. Direct libcrypto wins at every size because it keeps one context per key; the BCL
    /// pays about 0.4 µs more per call. BouncyCastle is the portable last resort.
    /// </summary>
    public static TransportCipherBackend AutoBackend { get; } = ResolveAuto();

    public static TransportCipher Create(ReadOnlySpan<byte> key) => Create(key, TransportCipherBackend.Auto);

    public static TransportCipher Create(ReadOnlySpan<byte> key, TransportCipherBackend backend)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"Transport keys are {KeySize} bytes.", nameof(key));
        }

        return backend switch
        {
            TransportCipherBackend.Auto => Create(key, AutoBackend),
            TransportCipherBackend.OpenSsl => new OpenSslTransportCipher(key),
            TransportCipherBackend.Bcl => new BclTransportCipher(key),
            TransportCipherBackend.BouncyCastle => new BouncyCastleTransportCipher(key),
            _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown transport cipher backend."),
        };
    }

    /// <summary>Whether <paramref name="backend"/> can be created in this process.</summary>
    public static bool IsSupported(TransportCipherBackend backend) => backend switch
    {
        TransportCipherBackend.Auto => true,
        TransportCipherBackend.OpenSsl => OpenSslTransportCipher.IsSupported,
        TransportCipherBackend.Bcl => BclTransportCipher.IsSupported,
        TransportCipherBackend.BouncyCastle => true,
        _ => false,
    };

    public abstract TransportCipherBackend Backend { get; }

    /// <summary>Encrypts <paramref name="data"/> in place and writes the 16-byte tag.</summary>
    public abstract void Seal(ulong counter, Span<byte> data, Span<byte> tag);

    /// <summary>Decrypts <paramref name="data"/> in place if the tag verifies; false otherwise (data is then zeroed).</summary>
    public abstract bool Open(ulong counter, Span<byte> data, ReadOnlySpan<byte> tag);

    /// <summary>Wipes the key and frees native context.</summary>
    public abstract void Dispose();

    private static TransportCipherBackend ResolveAuto()
    {
        if (OpenSslTransportCipher.IsSupported)
        {
            return TransportCipherBackend.OpenSsl;
        }

        return BclTransportCipher.IsSupported ? TransportCipherBackend.Bcl : TransportCipherBackend.BouncyCastle;
    }
}
