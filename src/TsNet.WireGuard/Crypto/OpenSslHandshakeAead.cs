using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// ChaCha20-Poly1305 with a fresh key per call on reused libcrypto contexts, one per direction and thread. The
/// handshake path sees untrusted input at line rate (a valid mac1 is computable by anyone who knows our public key),
/// so it must neither allocate nor throw per message — the BCL wrapper does both (a native context per call, an
/// exception per bad tag).
/// </summary>
/// <remarks>
/// Each context gets its cipher once; a call then only sets key, nonce (and tag) with EVP_CipherInit_ex2 and no
/// cipher. Passing the cipher on every call, as this class once did, makes OpenSSL 3 reset the context, fetch the
/// provider implementation by name and build a new provider context each time.
/// </remarks>
// Only <see cref="ChaCha20Poly1305Aead"/> calls this, after checking key, nonce and output lengths.
internal static unsafe class OpenSslHandshakeAead
{
    [ThreadStatic]
    private static EvpCipherContextHandle? t_sealContext;

    [ThreadStatic]
    private static EvpCipherContextHandle? t_openContext;

    public static bool IsSupported => OpenSslTransportCipher.IsSupported;

    public static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag)
    {
        var ctx = t_sealContext?.DangerousGetHandle() ?? NewContext(ref t_sealContext, encrypt: true);
        var written = 0;
        bool ok;
        fixed (byte* k = key)
        fixed (byte* n = nonce)
        fixed (byte* p = plaintext)
        fixed (byte* a = associatedData)
        fixed (byte* c = ciphertextAndTag)
        {
            ok = LibCrypto.CipherRekeyFast(ctx, k, n, null) == 1
                && (associatedData.IsEmpty || LibCrypto.EncryptUpdate(ctx, null, &written, a, associatedData.Length) == 1)
                && (plaintext.IsEmpty || LibCrypto.EncryptUpdate(ctx, c, &written, p, plaintext.Length) == 1)
                && LibCrypto.EncryptFinalEx(ctx, c + plaintext.Length, &written) == 1
                && LibCrypto.CipherCtxCtrl(ctx, LibCrypto.EvpCtrlAeadGetTag, ChaCha20Poly1305Aead.TagSize, c + plaintext.Length) == 1;
        }

        if (!ok)
        {
            LibCrypto.ErrClearError();
            throw new CryptographicException("EVP ChaCha20-Poly1305 encryption failed.");
        }
    }

    public static bool Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        var ctx = t_openContext?.DangerousGetHandle() ?? NewContext(ref t_openContext, encrypt: false);
        var written = 0;
        var length = plaintext.Length;
        bool ok;
        fixed (byte* k = key)
        fixed (byte* n = nonce)
        fixed (byte* a = associatedData)
        fixed (byte* c = ciphertextAndTag)
        fixed (byte* p = plaintext)
        fixed (byte* tagName = "tag"u8)
        {
            // Key, nonce and the expected tag in one call (OpenSSL copies the tag; u8 literals are NUL-terminated).
            OsslParam* parameters = stackalloc OsslParam[2];
            parameters[0] = OsslParam.OctetString(tagName, c + length, ChaCha20Poly1305Aead.TagSize);
            parameters[1] = default;
            ok = LibCrypto.CipherRekeyFast(ctx, k, n, parameters) == 1
                && (associatedData.IsEmpty || LibCrypto.DecryptUpdate(ctx, null, &written, a, associatedData.Length) == 1)
                && (length == 0 || LibCrypto.DecryptUpdate(ctx, p, &written, c, length) == 1)
                && LibCrypto.DecryptFinalEx(ctx, p + length, &written) == 1;
        }

        if (!ok)
        {
            // OpenSSL decrypts before it checks the tag: never hand back unauthenticated plaintext.
            CryptographicOperations.ZeroMemory(plaintext);
            LibCrypto.ErrClearError();
        }

        return ok;
    }

    private static nint NewContext(ref EvpCipherContextHandle? slot, bool encrypt)
    {
        // The handle lives as long as its thread; EVP_CIPHER_CTX keeps the last key schedule, which the next call
        // overwrites — the same exposure as the transport contexts, which hold keys for a session's life.
        var context = new EvpCipherContextHandle();
        nint ctx = context.DangerousGetHandle();
        nint cipher = LibCrypto.ChaCha20Poly1305();
        if ((encrypt ? LibCrypto.EncryptInitEx(ctx, cipher, null, null) : LibCrypto.DecryptInitEx(ctx, cipher, null, null)) != 1)
        {
            LibCrypto.ErrClearError();
            context.Dispose();
            throw new CryptographicException("EVP ChaCha20-Poly1305 initialisation failed.");
        }

        slot = context;
        return ctx;
    }
}
