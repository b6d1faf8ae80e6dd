namespace TsNet.WireGuard.Crypto;

/// <summary>
/// A private key that serves a few X25519 operations within one call — a handshake message's ephemeral key gives
/// its public key and one or two DHs. With libcrypto the key is imported and its derive context made once, on the
/// first DH, for all of them instead of once per DH (about 3 µs each); the public key never needs libcrypto. Stack-only, nothing on the managed heap: a
/// responder makes one for every valid initiation. Dispose frees libcrypto's copy (cleansed on free).
/// </summary>
internal ref struct X25519EphemeralKey
{
    private readonly ReadOnlySpan<byte> _privateKey;
    private readonly bool _openSsl;
    private nint _key;
    private nint _derive;

    /// <summary>Wraps <paramref name="privateKey"/> (not copied: it must outlive this value) for the current <see cref="X25519.Backend"/>.</summary>
    public X25519EphemeralKey(ReadOnlySpan<byte> privateKey)
        : this(privateKey, X25519.Backend)
    {
    }

    /// <summary>Wraps <paramref name="privateKey"/> (not copied: it must outlive this value) for <paramref name="backend"/>.</summary>
    public X25519EphemeralKey(ReadOnlySpan<byte> privateKey, X25519Backend backend)
    {
        if (privateKey.Length != X25519.KeySize)
        {
            throw new ArgumentException($"X25519 keys are {X25519.KeySize} bytes.", nameof(privateKey));
        }

        _privateKey = privateKey;
        _openSsl = X25519.Resolve(backend) == X25519Backend.OpenSsl;
    }

    /// <summary>X25519(key, 9), by the fixed-base table on either backend (faster than libcrypto's DH with u = 9).</summary>
    public readonly void DerivePublicKey(scoped Span<byte> publicKey) => X25519FixedBase.DerivePublicKey(_privateKey, publicKey);

    /// <summary>X25519(key, <paramref name="publicKey"/>); false, with an all-zero output, when the result is all zero.</summary>
    public bool TrySharedSecret(scoped ReadOnlySpan<byte> publicKey, scoped Span<byte> sharedSecret)
    {
        if (!_openSsl)
        {
            return X25519.TrySharedSecret(_privateKey, publicKey, sharedSecret, X25519Backend.Managed);
        }

        if (publicKey.Length != X25519.KeySize || sharedSecret.Length != X25519.KeySize)
        {
            throw new ArgumentException($"X25519 keys are {X25519.KeySize} bytes.");
        }

        nint derive = Derive();
        nint peer = OpenSslX25519.ImportPublicKey(publicKey);
        try
        {
            return OpenSslX25519.TryDerive(derive, peer, sharedSecret);
        }
        finally
        {
            LibCryptoKeyExchange.PkeyFree(peer);
        }
    }

    /// <summary>Frees the libcrypto key and context, if any were made.</summary>
    public void Dispose()
    {
        if (_key == 0)
        {
            return; // never imported (or the managed backend, where libcrypto may not be loaded at all)
        }

        LibCryptoKeyExchange.PkeyCtxFree(_derive);
        LibCryptoKeyExchange.PkeyFree(_key);
        _derive = 0;
        _key = 0;
    }

    // Made on first use, so a message refused before its first DH costs no import.
    private nint Derive()
    {
        if (_key == 0)
        {
            _key = OpenSslX25519.ImportPrivateKey(_privateKey);
        }

        if (_derive == 0)
        {
            _derive = OpenSslX25519.NewDeriveContext(_key);
        }

        return _derive;
    }
}
