using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// A private key that takes part in many DHs — the node's static key, used in every handshake it answers or
/// completes. With libcrypto its key object and initialised derive context are made once, so a DH costs one
/// public-key import and the derive itself. Not thread-safe: one owner at a time (the WireGuard core's thread).
/// </summary>
internal sealed class X25519StaticKey : IDisposable
{
    private readonly byte[]? _managedPrivateKey;
    private readonly EvpPkeyHandle? _key;
    private readonly EvpPkeyContextHandle? _derive;
    private bool _disposed;

    public X25519StaticKey(ReadOnlySpan<byte> privateKey)
        : this(privateKey, X25519.Backend)
    {
    }

    public X25519StaticKey(ReadOnlySpan<byte> privateKey, X25519Backend backend)
    {
        if (privateKey.Length != X25519.KeySize)
        {
            throw new ArgumentException($"X25519 keys are {X25519.KeySize} bytes.", nameof(privateKey));
        }

        Backend = backend == X25519Backend.Auto ? X25519.AutoBackend : backend;
        if (Backend == X25519Backend.Managed)
        {
            _managedPrivateKey = privateKey.ToArray();
            return;
        }

        if (!OpenSslX25519.IsSupported)
        {
            throw new PlatformNotSupportedException("libcrypto X25519 is not available.");
        }

        _key = new EvpPkeyHandle(OpenSslX25519.ImportPrivateKey(privateKey));
        try
        {
            _derive = new EvpPkeyContextHandle(OpenSslX25519.NewDeriveContext(_key.DangerousGetHandle()));
        }
        catch
        {
            _key.Dispose();
            throw;
        }
    }

    /// <summary>The backend this key computes with (never <see cref="X25519Backend.Auto"/>).</summary>
    public X25519Backend Backend { get; }

    /// <summary>X25519(this key, <paramref name="publicKey"/>); false when the result is all zero (the caller must reject).</summary>
    public bool TrySharedSecret(ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (publicKey.Length != X25519.KeySize || sharedSecret.Length != X25519.KeySize)
        {
            throw new ArgumentException($"X25519 keys are {X25519.KeySize} bytes.");
        }

        if (_managedPrivateKey is not null)
        {
            return X25519.TrySharedSecret(_managedPrivateKey, publicKey, sharedSecret, X25519Backend.Managed);
        }

        nint peer = OpenSslX25519.ImportPublicKey(publicKey);
        try
        {
            // The context keeps its own reference to the peer key until the next call replaces it.
            return OpenSslX25519.TryDerive(_derive!.DangerousGetHandle(), peer, sharedSecret);
        }
        finally
        {
            LibCryptoKeyExchange.PkeyFree(peer);
        }
    }

    /// <summary>Frees libcrypto's copies of the key (cleansed on free) or wipes the managed one.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _derive?.Dispose();
        _key?.Dispose();
        if (_managedPrivateKey is not null)
        {
            CryptographicOperations.ZeroMemory(_managedPrivateKey);
        }
    }
}
