using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// Transport AEAD through libcrypto's EVP ChaCha20-Poly1305, with one context per direction kept for the
/// key's lifetime: the cipher and key are set once, each packet only resets the IV. That removes the
/// per-call context setup the BCL wrapper pays, which dominates at MTU-sized packets.
/// </summary>
internal sealed unsafe class OpenSslTransportCipher : TransportCipher
{
    private static readonly Lazy<bool> s_isSupported = new(SelfTest);

    // Contexts are made eagerly for both directions: keeping the key around for a lazy second one would
    // cost more than the few hundred bytes an unused context takes.
    private readonly EvpCipherContextHandle _sealContext;
    private readonly EvpCipherContextHandle _openContext;
    private bool _disposed;

    public OpenSslTransportCipher(ReadOnlySpan<byte> key)
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

    /// <summary>libcrypto loaded and produced a known answer (rules out builds without ChaCha20-Poly1305).</summary>
    public static new bool IsSupported => LibCrypto.IsLoaded && s_isSupported.Value;

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
                // Four calls per packet: new IV, encrypt, finish Poly1305, fetch the tag.
                bool ok = LibCrypto.CipherReinitFast(ctx, nonce, null) == 1
                    && (data.IsEmpty || LibCrypto.CipherUpdate(ctx, p, &written, p, data.Length) == 1)
                    && LibCrypto.CipherFinalExFast(ctx, t, &written) == 1
                    && LibCrypto.CipherCtxCtrlFast(ctx, LibCrypto.EvpCtrlAeadGetTag, TagSize, t) == 1;
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
            fixed (byte* tagName = "tag"u8)
            {
                // Three calls per packet: the IV and the expected tag in one re-init (OpenSSL copies the tag, so
                // the read-only span is safe; u8 literals are NUL-terminated), decrypt, verify.
                OsslParam* parameters = stackalloc OsslParam[2];
                parameters[0] = OsslParam.OctetString(tagName, t, TagSize);
                parameters[1] = default;
                ok = LibCrypto.CipherReinitFast(ctx, nonce, parameters) == 1
                    && (data.IsEmpty || LibCrypto.CipherUpdate(ctx, p, &written, p, data.Length) == 1)
                    && LibCrypto.CipherFinalExFast(ctx, p + data.Length, &written) == 1;
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

    // Sealing and opening WireGuard's keepalive known answer (wireguard.md §10.2: transport key T1, counter 0,
    // empty payload) proves the loaded build has a working ChaCha20-Poly1305 and honours the IV-only re-init.
    private static bool SelfTest()
    {
        ReadOnlySpan<byte> key =
        [
            0xc5, 0xf3, 0x30, 0xb6, 0xdc, 0x92, 0xc8, 0xbd, 0x41, 0x24, 0x80, 0x07, 0x33, 0xb3, 0x3c, 0xd9,
            0xd7, 0xe5, 0xdd, 0x2a, 0xc8, 0xc7, 0x82, 0xe1, 0xb5, 0x58, 0xf9, 0xb2, 0xb6, 0x08, 0x04, 0xd8,
        ];
        ReadOnlySpan<byte> expectedTag =
        [
            0xfd, 0x3f, 0xfd, 0xf3, 0x8f, 0x1b, 0xfa, 0xd2, 0x0a, 0x6f, 0xdb, 0x16, 0x9d, 0x83, 0xd3, 0xd3,
        ];
        try
        {
            using var cipher = new OpenSslTransportCipher(key);
            Span<byte> tag = stackalloc byte[TagSize];
            cipher.Seal(0, [], tag);
            return tag.SequenceEqual(expectedTag) && cipher.Open(0, [], expectedTag);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
