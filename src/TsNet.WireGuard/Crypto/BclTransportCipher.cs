using System.Security.Cryptography;

namespace TsNet.WireGuard.Crypto;

/// <summary>Transport AEAD over <see cref="ChaCha20Poly1305"/>, one instance per key.</summary>
internal sealed class BclTransportCipher : TransportCipher
{
    private readonly ChaCha20Poly1305 _aead;
    private bool _disposed;

    public BclTransportCipher(ReadOnlySpan<byte> key)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("System.Security.Cryptography.ChaCha20Poly1305 is not supported on this platform.");
        }

        _aead = new ChaCha20Poly1305(key);
    }

    public static new bool IsSupported => ChaCha20Poly1305.IsSupported;

    public override TransportCipherBackend Backend => TransportCipherBackend.Bcl;

    public override void Seal(ulong counter, Span<byte> data, Span<byte> tag)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Span<byte> nonce = stackalloc byte[ChaCha20Poly1305Aead.NonceSize];
        ChaCha20Poly1305Aead.WriteNonce(counter, nonce);
        _aead.Encrypt(nonce, data, data, tag);
    }

    public override bool Open(ulong counter, Span<byte> data, ReadOnlySpan<byte> tag)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tag.Length != TagSize)
        {
            data.Clear();
            return false;
        }

        Span<byte> nonce = stackalloc byte[ChaCha20Poly1305Aead.NonceSize];
        ChaCha20Poly1305Aead.WriteNonce(counter, nonce);
        try
        {
            _aead.Decrypt(nonce, data, tag, data);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            // The BCL zeroes the output on failure; forged packets pay for an exception on this backend.
            return false;
        }
    }

    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        // The BCL instance holds the only copy of the key (ours was never kept) and wipes it on Dispose.
        _aead.Dispose();
    }
}
