using System.Security.Cryptography;
using System.Text;
using TsNet.WireGuard.Crypto;

namespace TsNet.Control.Transport;

/// <summary>
/// Noise's SymmetricState for <c>Noise_IK_25519_ChaChaPoly_BLAKE2s</c>: chaining key, handshake hash and the
/// current handshake key. Every handshake key is used once, so its nonce is always zero (doc §5.1).
/// Used by the client handshake and, in tests, by a responder.
/// </summary>
internal sealed class NoiseSymmetricState
{
    private readonly byte[] _chainingKey = new byte[Blake2s.HashSize];
    private readonly byte[] _hash = new byte[Blake2s.HashSize];
    private readonly byte[] _key = new byte[ChaCha20Poly1305Aead.KeySize];
    private readonly byte[] _zeroNonce = new byte[ChaCha20Poly1305Aead.NonceSize];
    private bool _hasKey;

    public NoiseSymmetricState(ReadOnlySpan<byte> prologue)
    {
        // The protocol name is 33 bytes (> HASHLEN), so h = HASH(name) and ck = h.
        Blake2s.Hash(Encoding.ASCII.GetBytes(ControlNoise.ProtocolName), _hash);
        _hash.CopyTo(_chainingKey);
        MixHash(prologue);
    }

    /// <summary>The current handshake hash h.</summary>
    public ReadOnlySpan<byte> Hash => _hash;

    public void MixHash(ReadOnlySpan<byte> data) => Blake2s.Hash(_hash, data, _hash);

    /// <summary>(ck, k) = HKDF(ck, DH(privateKey, publicKey)); a low-order public key fails the handshake.</summary>
    public void MixDh(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        Span<byte> shared = stackalloc byte[X25519.KeySize];
        try
        {
            if (!X25519.TrySharedSecret(privateKey, publicKey, shared))
            {
                throw new ControlTransportException("handshake failed: the peer's key is a low-order point");
            }

            NoiseKdf.Kdf2(_chainingKey, shared, _chainingKey, _key);
            _hasKey = true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>ciphertext = AEAD(k, 0, h, plaintext); then h = HASH(h ‖ ciphertext).</summary>
    public void EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        EnsureKey();
        ChaCha20Poly1305Aead.Seal(_key, _zeroNonce, plaintext, _hash, ciphertext, portable: false);
        MixHash(ciphertext);
    }

    /// <summary>Opens with the current key; false on a bad tag (h is then left unchanged).</summary>
    public bool TryDecryptAndHash(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        EnsureKey();
        if (!ChaCha20Poly1305Aead.Open(_key, _zeroNonce, ciphertext, _hash, plaintext, portable: false))
        {
            return false;
        }

        MixHash(ciphertext);
        return true;
    }

    /// <summary>Split: (initiator→responder, responder→initiator) transport keys; clears the handshake secrets.</summary>
    public (byte[] InitiatorToResponder, byte[] ResponderToInitiator) Split()
    {
        byte[] c1 = new byte[ChaCha20Poly1305Aead.KeySize];
        byte[] c2 = new byte[ChaCha20Poly1305Aead.KeySize];
        NoiseKdf.Kdf2(_chainingKey, [], c1, c2);
        CryptographicOperations.ZeroMemory(_chainingKey);
        CryptographicOperations.ZeroMemory(_key);
        _hasKey = false;
        return (c1, c2);
    }

    private void EnsureKey()
    {
        if (!_hasKey)
        {
            throw new InvalidOperationException("no handshake key has been mixed yet");
        }
    }
}
