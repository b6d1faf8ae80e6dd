using System.Security.Cryptography;
using TsNet.WireGuard.Crypto;

namespace TsNet.Benchmarks.Crypto;

/// <summary>
/// The libcrypto transport cipher as it was before the per-call overhead work (issue 13): four EVP calls per seal
/// and per open, each with a GC transition. Kept only so TransportCipherBenchmarks can measure the old and the new
/// path in the same run.
/// </summary>
internal sealed unsafe class PreviousOpenSslTransportCipher : TransportCipher
{
    // Contexts are made eagerly for both directions: keeping the key around for a lazy second one would
    // cost more than the few hundred bytes an unused context takes.
    private readonly EvpCipherContextHandle _sealContext;
    private readonly EvpCipherContextHandle _openContext;
    private bool _disposed;

    public PreviousOpenSslTransportCipher(ReadOnlySpan<byte> key)
    {
        if (!LibCrypto.IsLoaded)
        {
            throw new PlatformNotSupportedException("libcrypto (OpenSSL 3) could not be loaded.");
        }

        if (key.Length != KeySize)
        {
            throw new ArgumentException($"Transport keys are {KeySize} bytes.", nameof(key));
        }

        _sealContext = new EvpCipherContextHandle();
        _openContext = new EvpCipherContextHandle();
        try
        {
            nint cipher = LibCrypto.ChaCha20Poly1305();
            fixed (byte* k = key)
            {
                // The 12-byte IV is ChaCha20-Poly1305's default length, so no EVP_CTRL_AEAD_SET_IVLEN is needed.
                if (LibCrypto.EncryptInitEx(_sealContext.DangerousGetHandle(), cipher, k, null) != 1
                    || LibCrypto.DecryptInitEx(_openContext.DangerousGetHandle(), cipher, k, null) != 1)
                {
                    LibCrypto.ErrClearError();
                    throw new CryptographicException("EVP ChaCha20-Poly1305 initialisation failed.");
                }
            }
        }
        catch
        {
            _sealContext.Dispose();
            _openContext.Dispose();
            throw;
        }
    }

    public override TransportCipherBackend Backend => TransportCipherBackend.OpenSsl;

    public override void Seal(ulong counter, Span<byte> data, Span<byte> tag)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tag.Length != TagSize)
        {
            throw new ArgumentException("The tag is 16 bytes.", nameof(tag));
        }

        byte* nonce = stackalloc byte[ChaCha20Poly1305Aead.NonceSize];
        ChaCha20Poly1305Aead.WriteNonce(counter, new Span<byte>(nonce, ChaCha20Poly1305Aead.NonceSize));
        bool addedReference = false;
        try
        {
            // Guards against Dispose freeing the context mid-call (the finalizer thread or a misbehaving owner).
            _sealContext.DangerousAddRef(ref addedReference);
            nint ctx = _sealContext.DangerousGetHandle();
            int written;
            fixed (byte* p = data)
            fixed (byte* t = tag)
            {
                bool ok = LibCrypto.EncryptInitEx(ctx, 0, null, nonce) == 1
                    && (data.IsEmpty || LibCrypto.EncryptUpdate(ctx, p, &written, p, data.Length) == 1)
                    && LibCrypto.EncryptFinalEx(ctx, t, &written) == 1
                    && LibCrypto.CipherCtxCtrl(ctx, LibCrypto.EvpCtrlAeadGetTag, TagSize, t) == 1;
                if (!ok)
                {
                    LibCrypto.ErrClearError();
                    throw new CryptographicException("EVP ChaCha20-Poly1305 encryption failed.");
                }
            }
        }
        finally
        {
            if (addedReference)
            {
                _sealContext.DangerousRelease();
            }
        }
    }

    public override bool Open(ulong counter, Span<byte> data, ReadOnlySpan<byte> tag)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tag.Length != TagSize)
        {
            data.Clear();
            return false;
        }

        byte* nonce = stackalloc byte[ChaCha20Poly1305Aead.NonceSize];
        ChaCha20Poly1305Aead.WriteNonce(counter, new Span<byte>(nonce, ChaCha20Poly1305Aead.NonceSize));
        bool addedReference = false;
        try
        {
            _openContext.DangerousAddRef(ref addedReference);
            nint ctx = _openContext.DangerousGetHandle();
            int written;
            bool ok;
            fixed (byte* p = data)
            fixed (byte* t = tag)
            {
                // The tag is an input to EVP_DecryptFinal_ex; OpenSSL copies it, so the read-only span is safe.
                ok = LibCrypto.DecryptInitEx(ctx, 0, null, nonce) == 1
                    && LibCrypto.CipherCtxCtrl(ctx, LibCrypto.EvpCtrlAeadSetTag, TagSize, t) == 1
                    && (data.IsEmpty || LibCrypto.DecryptUpdate(ctx, p, &written, p, data.Length) == 1)
                    && LibCrypto.DecryptFinalEx(ctx, p + data.Length, &written) == 1;
            }

            if (!ok)
            {
                // OpenSSL decrypts before it checks the tag: never hand back unauthenticated plaintext.
                CryptographicOperations.ZeroMemory(data);
                LibCrypto.ErrClearError();
            }

            return ok;
        }
        finally
        {
            if (addedReference)
            {
                _openContext.DangerousRelease();
            }
        }
    }

    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        // EVP_CIPHER_CTX_free cleanses the key schedule; the caller's key span was never copied on the managed side.
        _sealContext.Dispose();
        _openContext.Dispose();
    }
}
