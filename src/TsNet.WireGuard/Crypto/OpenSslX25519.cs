using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// X25519 through libcrypto's EVP_PKEY_derive. Keys are imported from raw bytes per call with EVP_PKEY_fromdata on
/// a per-thread import context; nothing is allocated on the managed heap. A private key that serves many DHs (the
/// node's static key) should be held in an <see cref="X25519StaticKey"/>, which imports it and sets up its derive
/// context once.
/// </summary>
/// <remarks>
/// A private key is imported together with a placeholder public key: given the private key alone, libcrypto
/// computes the public key on import with its generic fixed-base code, which costs more than the DH itself
/// (measured: 57–67 µs against 46–48 µs for a derive, load average 18). EVP_PKEY_derive reads only the private
/// half of our key and the public half of the peer's, so the placeholder is never used. Public keys are derived
/// as a DH with the base point, which runs libcrypto's fast variable-base code.
/// </remarks>
internal static unsafe class OpenSslX25519
{
    private static readonly Lazy<bool> s_isSupported = new(SelfTest);

    [ThreadStatic]
    private static ThreadContexts? t_contexts;

    /// <summary>libcrypto with EVP_PKEY_fromdata loaded and RFC 7748's known answers reproduced.</summary>
    public static bool IsSupported => LibCryptoKeyExchange.IsLoaded && s_isSupported.Value;

    private static ReadOnlySpan<byte> BasePoint =>
    [
        9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// <summary>X25519(privateKey, publicKey); false (and an all-zero output) when libcrypto rejects the result as all zero.</summary>
    public static bool TrySharedSecret(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret)
    {
        var contexts = Contexts();
        nint key = ImportPrivateKey(contexts.Import, privateKey);
        nint peer = 0;
        nint derive = 0;
        try
        {
            peer = ImportPublicKey(contexts.Import, publicKey);
            derive = NewDeriveContext(key);
            return TryDerive(derive, peer, sharedSecret);
        }
        finally
        {
            LibCryptoKeyExchange.PkeyCtxFree(derive);
            LibCryptoKeyExchange.PkeyFree(peer);
            LibCryptoKeyExchange.PkeyFree(key);
        }
    }

    /// <summary>X25519(privateKey, 9).</summary>
    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        var contexts = Contexts();
        nint key = ImportPrivateKey(contexts.Import, privateKey);
        nint derive = 0;
        try
        {
            derive = NewDeriveContext(key);
            if (!TryDerive(derive, contexts.BasePoint.DangerousGetHandle(), publicKey))
            {
                throw new CryptographicException("libcrypto X25519 public key derivation failed.");
            }
        }
        finally
        {
            LibCryptoKeyExchange.PkeyCtxFree(derive);
            LibCryptoKeyExchange.PkeyFree(key);
        }
    }

    /// <summary>The base point as a peer key, owned by this thread's contexts (the caller must not free it).</summary>
    internal static nint BasePointKey() => Contexts().BasePoint.DangerousGetHandle();

    /// <summary>Imports a private key (with the placeholder public half, see the remarks); the caller frees it.</summary>
    internal static nint ImportPrivateKey(ReadOnlySpan<byte> privateKey) => ImportPrivateKey(Contexts().Import, privateKey);

    /// <summary>A derive context for <paramref name="key"/>, initialised; the caller frees it.</summary>
    internal static nint NewDeriveContext(nint key)
    {
        nint derive = LibCryptoKeyExchange.PkeyCtxNew(key);
        if (derive == 0 || LibCryptoKeyExchange.DeriveInit(derive) != 1)
        {
            LibCryptoKeyExchange.PkeyCtxFree(derive);
            LibCrypto.ErrClearError();
            throw new CryptographicException("EVP_PKEY_derive_init failed for X25519.");
        }

        return derive;
    }

    /// <summary>Imports a peer's public key; the caller frees it.</summary>
    internal static nint ImportPublicKey(ReadOnlySpan<byte> publicKey) => ImportPublicKey(Contexts().Import, publicKey);

    /// <summary>
    /// Sets <paramref name="peer"/> on an initialised derive context and derives. False, with the output zeroed,
    /// when libcrypto fails — for X25519 that is the all-zero result of a low-order point (RFC 7748 §6.1).
    /// </summary>
    internal static bool TryDerive(nint derive, nint peer, Span<byte> sharedSecret)
    {
        nuint length = X25519.KeySize;
        bool ok;
        fixed (byte* output = sharedSecret)
        {
            // validate_peer = 0: the public key check only confirms a public key is present, and costs a context.
            ok = LibCryptoKeyExchange.DeriveSetPeerEx(derive, peer, 0) == 1
                && LibCryptoKeyExchange.Derive(derive, output, &length) == 1
                && length == X25519.KeySize;
        }

        if (!ok)
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
            LibCrypto.ErrClearError();
        }

        return ok;
    }

    private static nint ImportPrivateKey(EvpPkeyContextHandle import, ReadOnlySpan<byte> privateKey)
    {
        nint key = 0;
        int ok;
        fixed (byte* privateBytes = privateKey)
        fixed (byte* placeholder = BasePoint)
        fixed (byte* privName = "priv"u8)
        fixed (byte* pubName = "pub"u8)
        {
            // u8 literals are NUL-terminated, as OSSL_PARAM keys must be.
            OsslParam* parameters = stackalloc OsslParam[3];
            parameters[0] = OsslParam.OctetString(privName, privateBytes, privateKey.Length);
            parameters[1] = OsslParam.OctetString(pubName, placeholder, X25519.KeySize);
            parameters[2] = default;
            ok = LibCryptoKeyExchange.Fromdata(import.DangerousGetHandle(), &key, LibCryptoKeyExchange.SelectKeyPair, parameters);
        }

        if (ok != 1 || key == 0)
        {
            LibCryptoKeyExchange.PkeyFree(key);
            LibCrypto.ErrClearError();
            throw new CryptographicException("EVP_PKEY_fromdata failed for an X25519 private key.");
        }

        return key;
    }

    private static nint ImportPublicKey(EvpPkeyContextHandle import, ReadOnlySpan<byte> publicKey)
    {
        nint key = 0;
        int ok;
        fixed (byte* publicBytes = publicKey)
        fixed (byte* pubName = "pub"u8)
        {
            OsslParam* parameters = stackalloc OsslParam[2];
            parameters[0] = OsslParam.OctetString(pubName, publicBytes, publicKey.Length);
            parameters[1] = default;
            ok = LibCryptoKeyExchange.Fromdata(import.DangerousGetHandle(), &key, LibCryptoKeyExchange.SelectPublicKey, parameters);
        }

        if (ok != 1 || key == 0)
        {
            LibCryptoKeyExchange.PkeyFree(key);
            LibCrypto.ErrClearError();
            throw new CryptographicException("EVP_PKEY_fromdata failed for an X25519 public key.");
        }

        return key;
    }

    private static ThreadContexts Contexts() => t_contexts ??= new ThreadContexts();

    // RFC 7748 §6.1 (Alice's public key, the shared secret) and a low-order input that must be rejected: rules out
    // a libcrypto build without X25519 and any import behaviour this class does not expect.
    private static bool SelfTest()
    {
        ReadOnlySpan<byte> alicePrivate = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        ReadOnlySpan<byte> alicePublic = Convert.FromHexString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        ReadOnlySpan<byte> bobPublic = Convert.FromHexString("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        ReadOnlySpan<byte> shared = Convert.FromHexString("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        Span<byte> output = stackalloc byte[X25519.KeySize];
        try
        {
            DerivePublicKey(alicePrivate, output);
            if (!output.SequenceEqual(alicePublic))
            {
                return false;
            }

            if (!TrySharedSecret(alicePrivate, bobPublic, output) || !output.SequenceEqual(shared))
            {
                return false;
            }

            Span<byte> lowOrder = stackalloc byte[X25519.KeySize];
            lowOrder[0] = 1;
            return !TrySharedSecret(alicePrivate, lowOrder, output) && output.IndexOfAnyExcept((byte)0) < 0;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    // Per thread: the EVP_PKEY_fromdata context (reusable across imports) and the base point as a peer key.
    private sealed class ThreadContexts
    {
        public ThreadContexts()
        {
            fixed (byte* name = "X25519"u8)
            {
                Import = new EvpPkeyContextHandle(LibCryptoKeyExchange.PkeyCtxNewFromName(name));
            }

            if (Import.IsInvalid || LibCryptoKeyExchange.FromdataInit(Import.DangerousGetHandle()) != 1)
            {
                LibCrypto.ErrClearError();
                Import.Dispose();
                throw new CryptographicException("libcrypto has no X25519 key management.");
            }

            BasePoint = new EvpPkeyHandle(ImportPublicKey(Import, OpenSslX25519.BasePoint));
        }

        public EvpPkeyContextHandle Import { get; }

        public EvpPkeyHandle BasePoint { get; }
    }
}
