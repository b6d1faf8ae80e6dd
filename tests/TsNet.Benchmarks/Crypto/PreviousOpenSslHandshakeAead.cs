using System.Security.Cryptography;
using TsNet.WireGuard.Crypto;

namespace TsNet.Benchmarks.Crypto;

/// <summary>
/// The handshake AEAD as it was before issue 13's second round (the cipher passed on every init, so OpenSSL resets
/// the context, fetches the implementation and remakes the provider context per call), kept so crypto-cpu can
/// time it against the current one in the same run.
/// ChaCha20-Poly1305 with a fresh key per call on one reused libcrypto context per thread. The handshake path
/// sees untrusted input at line rate (a valid mac1 is computable by anyone who knows our public key), so it must
/// neither allocate nor throw per message — the BCL wrapper does both (a native context per call, an exception
/// per bad tag).
/// </summary>
internal static unsafe class PreviousOpenSslHandshakeAead
{
    [ThreadStatic]
    private static EvpCipherContextHandle? t_context;

        public static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag)
    {
        var ctx = Context();
        var written = 0;
        bool ok;
        fixed (byte* k = key)
        fixed (byte* n = nonce)
        fixed (byte* p = plaintext)
        fixed (byte* a = associatedData)
        fixed (byte* c = ciphertextAndTag)
        {
            ok = LibCrypto.EncryptInitEx(ctx, LibCrypto.ChaCha20Poly1305(), k, n) == 1
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
        var ctx = Context();
        var written = 0;
        var length = plaintext.Length;
        bool ok;
        fixed (byte* k = key)
        fixed (byte* n = nonce)
        fixed (byte* a = associatedData)
        fixed (byte* c = ciphertextAndTag)
        fixed (byte* p = plaintext)
        {
            ok = LibCrypto.DecryptInitEx(ctx, LibCrypto.ChaCha20Poly1305(), k, n) == 1
                && LibCrypto.CipherCtxCtrl(ctx, LibCrypto.EvpCtrlAeadSetTag, ChaCha20Poly1305Aead.TagSize, c + length) == 1
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

    private static nint Context()
    {
        // The handle lives as long as its thread; EVP_CIPHER_CTX keeps the last key schedule, which the next call
        // overwrites — the same exposure as the transport contexts, which hold keys for a session's life.
        t_context ??= new EvpCipherContextHandle();
        return t_context.DangerousGetHandle();
    }
}
