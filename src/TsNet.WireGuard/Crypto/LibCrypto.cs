using System.Runtime.InteropServices;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// The few libcrypto (OpenSSL 3) EVP entry points the transport cipher needs, bound at run time.
/// </summary>
/// <remarks>
/// Bound through <see cref="NativeLibrary"/> and unmanaged function pointers rather than [LibraryImport]: a
/// missing library then reads as <see cref="IsLoaded"/> = false instead of a DllNotFoundException on first
/// call, and a call costs no marshalling stub (every argument is a raw pointer or int).
/// </remarks>
internal static unsafe class LibCrypto
{
    public const int EvpCtrlAeadGetTag = 0x10;
    public const int EvpCtrlAeadSetTag = 0x11;

    // OpenSSL 3 keeps one soname per platform; 1.1 is out of support and not tried.
    private static readonly string[] s_libraryNames = ["libcrypto.so.3", "libcrypto.3.dylib", "libcrypto-3-x64.dll", "libcrypto-3.dll"];

    private static readonly delegate* unmanaged<nint> s_cipherCtxNew;
    private static readonly delegate* unmanaged<nint, void> s_cipherCtxFree;
    private static readonly delegate* unmanaged<nint> s_chacha20Poly1305;
    private static readonly delegate* unmanaged<nint, nint, nint, byte*, byte*, int> s_encryptInitEx;
    private static readonly delegate* unmanaged<nint, nint, nint, byte*, byte*, int> s_decryptInitEx;
    private static readonly delegate* unmanaged<nint, byte*, int*, byte*, int, int> s_encryptUpdate;
    private static readonly delegate* unmanaged<nint, byte*, int*, byte*, int, int> s_decryptUpdate;
    private static readonly delegate* unmanaged<nint, byte*, int*, int> s_encryptFinalEx;
    private static readonly delegate* unmanaged<nint, byte*, int*, int> s_decryptFinalEx;
    private static readonly delegate* unmanaged<nint, int, int, void*, int> s_cipherCtxCtrl;
    private static readonly delegate* unmanaged<void> s_errClearError;

    // The per-packet calls again, without the GC transition (about 10-20 ns per call): they neither block, call
    // back, nor take locks once a context is keyed, and run well under a microsecond for a datagram. Updates
    // longer than SuppressGcTransitionMaxLength still go through the normal transition, so a GC never waits on one.
    private static readonly delegate* unmanaged[SuppressGCTransition]<nint, nint, byte*, byte*, int, OsslParam*, int> s_cipherInitEx2Fast;
    private static readonly delegate* unmanaged[SuppressGCTransition]<nint, byte*, int*, byte*, int, int> s_cipherUpdateFast;
    private static readonly delegate* unmanaged<nint, byte*, int*, byte*, int, int> s_cipherUpdate;
    private static readonly delegate* unmanaged[SuppressGCTransition]<nint, byte*, int*, int> s_cipherFinalExFast;
    private static readonly delegate* unmanaged[SuppressGCTransition]<nint, int, int, void*, int> s_cipherCtxCtrlFast;

#pragma warning disable CA1810 // Binding needs statements (TryLoad/TryGetExport); the cost is paid once per process.
    static LibCrypto()
#pragma warning restore CA1810
    {
        nint library = 0;
        foreach (string name in s_libraryNames)
        {
            if (NativeLibrary.TryLoad(name, typeof(LibCrypto).Assembly, DllImportSearchPath.SafeDirectories, out library))
            {
                break;
            }
        }

        if (library == 0)
        {
            return;
        }

        Library = library;

        if (!TryGet(library, "EVP_CIPHER_CTX_new", out nint cipherCtxNew)
            || !TryGet(library, "EVP_CIPHER_CTX_free", out nint cipherCtxFree)
            || !TryGet(library, "EVP_chacha20_poly1305", out nint chacha20Poly1305)
            || !TryGet(library, "EVP_EncryptInit_ex", out nint encryptInitEx)
            || !TryGet(library, "EVP_DecryptInit_ex", out nint decryptInitEx)
            || !TryGet(library, "EVP_EncryptUpdate", out nint encryptUpdate)
            || !TryGet(library, "EVP_DecryptUpdate", out nint decryptUpdate)
            || !TryGet(library, "EVP_EncryptFinal_ex", out nint encryptFinalEx)
            || !TryGet(library, "EVP_DecryptFinal_ex", out nint decryptFinalEx)
            || !TryGet(library, "EVP_CIPHER_CTX_ctrl", out nint cipherCtxCtrl)
            || !TryGet(library, "ERR_clear_error", out nint errClearError)
            || !TryGet(library, "EVP_CipherInit_ex2", out nint cipherInitEx2)
            || !TryGet(library, "EVP_CipherUpdate", out nint cipherUpdate)
            || !TryGet(library, "EVP_CipherFinal_ex", out nint cipherFinalEx))
        {
            return;
        }

        s_cipherCtxNew = (delegate* unmanaged<nint>)cipherCtxNew;
        s_cipherCtxFree = (delegate* unmanaged<nint, void>)cipherCtxFree;
        s_chacha20Poly1305 = (delegate* unmanaged<nint>)chacha20Poly1305;
        s_encryptInitEx = (delegate* unmanaged<nint, nint, nint, byte*, byte*, int>)encryptInitEx;
        s_decryptInitEx = (delegate* unmanaged<nint, nint, nint, byte*, byte*, int>)decryptInitEx;
        s_encryptUpdate = (delegate* unmanaged<nint, byte*, int*, byte*, int, int>)encryptUpdate;
        s_decryptUpdate = (delegate* unmanaged<nint, byte*, int*, byte*, int, int>)decryptUpdate;
        s_encryptFinalEx = (delegate* unmanaged<nint, byte*, int*, int>)encryptFinalEx;
        s_decryptFinalEx = (delegate* unmanaged<nint, byte*, int*, int>)decryptFinalEx;
        s_cipherCtxCtrl = (delegate* unmanaged<nint, int, int, void*, int>)cipherCtxCtrl;
        s_errClearError = (delegate* unmanaged<void>)errClearError;
        s_cipherInitEx2Fast = (delegate* unmanaged[SuppressGCTransition]<nint, nint, byte*, byte*, int, OsslParam*, int>)cipherInitEx2;
        s_cipherUpdateFast = (delegate* unmanaged[SuppressGCTransition]<nint, byte*, int*, byte*, int, int>)cipherUpdate;
        s_cipherUpdate = (delegate* unmanaged<nint, byte*, int*, byte*, int, int>)cipherUpdate;
        s_cipherFinalExFast = (delegate* unmanaged[SuppressGCTransition]<nint, byte*, int*, int>)cipherFinalEx;
        s_cipherCtxCtrlFast = (delegate* unmanaged[SuppressGCTransition]<nint, int, int, void*, int>)cipherCtxCtrl;
        IsLoaded = true;
    }

    /// <summary>True when libcrypto and every entry point below were found.</summary>
    public static bool IsLoaded { get; }

    /// <summary>The loaded libcrypto (0 when none was found), for bindings of other entry points.</summary>
    public static nint Library { get; }

    public static nint CipherCtxNew() => s_cipherCtxNew();

    public static void CipherCtxFree(nint ctx) => s_cipherCtxFree(ctx);

    public static nint ChaCha20Poly1305() => s_chacha20Poly1305();

    public static int EncryptInitEx(nint ctx, nint cipher, byte* key, byte* iv) => s_encryptInitEx(ctx, cipher, 0, key, iv);

    public static int DecryptInitEx(nint ctx, nint cipher, byte* key, byte* iv) => s_decryptInitEx(ctx, cipher, 0, key, iv);

    public static int EncryptUpdate(nint ctx, byte* output, int* outputLength, byte* input, int inputLength)
        => s_encryptUpdate(ctx, output, outputLength, input, inputLength);

    public static int DecryptUpdate(nint ctx, byte* output, int* outputLength, byte* input, int inputLength)
        => s_decryptUpdate(ctx, output, outputLength, input, inputLength);

    public static int EncryptFinalEx(nint ctx, byte* output, int* outputLength) => s_encryptFinalEx(ctx, output, outputLength);

    public static int DecryptFinalEx(nint ctx, byte* output, int* outputLength) => s_decryptFinalEx(ctx, output, outputLength);

    public static int CipherCtxCtrl(nint ctx, int type, int arg, void* ptr) => s_cipherCtxCtrl(ctx, type, arg, ptr);

    public static void ErrClearError() => s_errClearError();

    /// <summary>Longest update run without a GC transition: about 1 µs of ChaCha20-Poly1305 on one core.</summary>
    public const int SuppressGcTransitionMaxLength = 2048;

    /// <summary>
    /// EVP_CipherInit_ex2(ctx, NULL, NULL, iv, enc = -1 (unchanged), params) on a keyed context: a new IV and, for
    /// opening, the expected tag in the same call. No GC transition (see above).
    /// </summary>
    public static int CipherReinitFast(nint ctx, byte* iv, OsslParam* parameters) => s_cipherInitEx2Fast(ctx, 0, null, iv, -1, parameters);

    /// <summary>
    /// EVP_CipherInit_ex2(ctx, NULL, key, iv, enc = -1 (unchanged), params) on a context that already has its cipher:
    /// a new key and IV (and, for opening, the expected tag) without fetching the cipher or remaking the provider
    /// context, which passing the cipher again would do. No GC transition: key setup is a few hundred nanoseconds.
    /// </summary>
    public static int CipherRekeyFast(nint ctx, byte* key, byte* iv, OsslParam* parameters) => s_cipherInitEx2Fast(ctx, 0, key, iv, -1, parameters);

    /// <summary>EVP_CipherUpdate; without a GC transition up to <see cref="SuppressGcTransitionMaxLength"/> bytes.</summary>
    public static int CipherUpdate(nint ctx, byte* output, int* outputLength, byte* input, int inputLength)
        => inputLength <= SuppressGcTransitionMaxLength
            ? s_cipherUpdateFast(ctx, output, outputLength, input, inputLength)
            : s_cipherUpdate(ctx, output, outputLength, input, inputLength);

    /// <summary>EVP_CipherFinal_ex without a GC transition (ChaCha20-Poly1305's final only finishes Poly1305).</summary>
    public static int CipherFinalExFast(nint ctx, byte* output, int* outputLength) => s_cipherFinalExFast(ctx, output, outputLength);

    /// <summary>EVP_CIPHER_CTX_ctrl without a GC transition, for EVP_CTRL_AEAD_GET_TAG (a 16-byte copy).</summary>
    public static int CipherCtxCtrlFast(nint ctx, int type, int arg, void* ptr) => s_cipherCtxCtrlFast(ctx, type, arg, ptr);

    private static bool TryGet(nint library, string name, out nint address)
        => NativeLibrary.TryGetExport(library, name, out address);
}
