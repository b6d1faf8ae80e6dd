using System.Runtime.InteropServices;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// The libcrypto (OpenSSL 3) EVP_PKEY entry points X25519 needs: key import from raw bytes (EVP_PKEY_fromdata)
/// and key derivation. Bound separately from <see cref="LibCrypto"/> so a libcrypto without them (1.1 has no
/// EVP_PKEY_fromdata) still serves the transport cipher.
/// </summary>
internal static unsafe class LibCryptoKeyExchange
{
    /// <summary>EVP_PKEY_PUBLIC_KEY: public key plus domain and other parameters (openssl/evp.h).</summary>
    public const int SelectPublicKey = 0x86;

    /// <summary>EVP_PKEY_KEYPAIR: <see cref="SelectPublicKey"/> plus the private key.</summary>
    public const int SelectKeyPair = 0x87;

    private static readonly delegate* unmanaged<nint, byte*, byte*, nint> s_pkeyCtxNewFromName;
    private static readonly delegate* unmanaged<nint, nint, nint> s_pkeyCtxNew;
    private static readonly delegate* unmanaged<nint, void> s_pkeyCtxFree;
    private static readonly delegate* unmanaged<nint, int> s_fromdataInit;
    private static readonly delegate* unmanaged<nint, nint*, int, OsslParam*, int> s_fromdata;
    private static readonly delegate* unmanaged<nint, void> s_pkeyFree;
    private static readonly delegate* unmanaged<nint, int> s_deriveInit;
    private static readonly delegate* unmanaged<nint, nint, int, int> s_deriveSetPeerEx;
    private static readonly delegate* unmanaged<nint, byte*, nuint*, int> s_derive;

#pragma warning disable CA1810 // Binding needs statements (TryGetExport); the cost is paid once per process.
    static LibCryptoKeyExchange()
#pragma warning restore CA1810
    {
        nint library = LibCrypto.Library;
        if (library == 0 || !LibCrypto.IsLoaded
            || !NativeLibrary.TryGetExport(library, "EVP_PKEY_CTX_new_from_name", out nint pkeyCtxNewFromName)
            || !NativeLibrary.TryGetExport(library, "EVP_PKEY_CTX_new", out nint pkeyCtxNew)
            || !NativeLibrary.TryGetExport(library, "EVP_PKEY_CTX_free", out nint pkeyCtxFree)
            || !NativeLibrary.TryGetExport(library, "EVP_PKEY_fromdata_init", out nint fromdataInit)
            || !NativeLibrary.TryGetExport(library, "EVP_PKEY_fromdata", out nint fromdata)
            || !NativeLibrary.TryGetExport(library, "EVP_PKEY_free", out nint pkeyFree)
            || !NativeLibrary.TryGetExport(library, "EVP_PKEY_derive_init", out nint deriveInit)
            || !NativeLibrary.TryGetExport(library, "EVP_PKEY_derive_set_peer_ex", out nint deriveSetPeerEx)
            || !NativeLibrary.TryGetExport(library, "EVP_PKEY_derive", out nint derive))
        {
            return;
        }

        s_pkeyCtxNewFromName = (delegate* unmanaged<nint, byte*, byte*, nint>)pkeyCtxNewFromName;
        s_pkeyCtxNew = (delegate* unmanaged<nint, nint, nint>)pkeyCtxNew;
        s_pkeyCtxFree = (delegate* unmanaged<nint, void>)pkeyCtxFree;
        s_fromdataInit = (delegate* unmanaged<nint, int>)fromdataInit;
        s_fromdata = (delegate* unmanaged<nint, nint*, int, OsslParam*, int>)fromdata;
        s_pkeyFree = (delegate* unmanaged<nint, void>)pkeyFree;
        s_deriveInit = (delegate* unmanaged<nint, int>)deriveInit;
        s_deriveSetPeerEx = (delegate* unmanaged<nint, nint, int, int>)deriveSetPeerEx;
        s_derive = (delegate* unmanaged<nint, byte*, nuint*, int>)derive;
        IsLoaded = true;
    }

    /// <summary>True when libcrypto and every entry point below were found.</summary>
    public static bool IsLoaded { get; }

    /// <summary>EVP_PKEY_CTX_new_from_name(NULL, name, NULL): a context for the default library context.</summary>
    public static nint PkeyCtxNewFromName(byte* name) => s_pkeyCtxNewFromName(0, name, null);

    /// <summary>EVP_PKEY_CTX_new(pkey, NULL).</summary>
    public static nint PkeyCtxNew(nint pkey) => s_pkeyCtxNew(pkey, 0);

    public static void PkeyCtxFree(nint ctx) => s_pkeyCtxFree(ctx);

    public static int FromdataInit(nint ctx) => s_fromdataInit(ctx);

    public static int Fromdata(nint ctx, nint* pkey, int selection, OsslParam* parameters) => s_fromdata(ctx, pkey, selection, parameters);

    public static void PkeyFree(nint pkey) => s_pkeyFree(pkey);

    public static int DeriveInit(nint ctx) => s_deriveInit(ctx);

    public static int DeriveSetPeerEx(nint ctx, nint peer, int validatePeer) => s_deriveSetPeerEx(ctx, peer, validatePeer);

    public static int Derive(nint ctx, byte* key, nuint* keyLength) => s_derive(ctx, key, keyLength);
}
