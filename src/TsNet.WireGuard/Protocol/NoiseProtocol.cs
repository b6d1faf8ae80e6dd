using System.Buffers.Binary;
using System.Security.Cryptography;
using TsNet.WireGuard.Crypto;

namespace TsNet.WireGuard.Protocol;

/// <summary>
/// The Noise_IKpsk2 message computations of WireGuard (wireguard.md §3), step by step and free of I/O and clocks:
/// ephemeral keys, indices and timestamps come in as arguments so the published transcript can be reproduced.
/// mac1/mac2 are added afterwards by <see cref="CookieGenerator"/>.
/// </summary>
internal static class NoiseProtocol
{
    private const int KeySize = 32;

    /// <summary>Builds message 1 (§3.1) into <paramref name="message"/> (148 bytes, macs left zero) and moves <paramref name="handshake"/> to InitiationCreated.</summary>
    public static bool CreateInitiation(
        ReadOnlySpan<byte> localStaticPublic,
        ReadOnlySpan<byte> remoteStatic,
        ReadOnlySpan<byte> precomputedStaticStatic,
        Handshake handshake,
        ReadOnlySpan<byte> ephemeralPrivate,
        ReadOnlySpan<byte> timestamp,
        uint senderIndex,
        Span<byte> message)
    {
        Span<byte> chainKey = stackalloc byte[KeySize];
        Span<byte> hash = stackalloc byte[KeySize];
        Span<byte> key = stackalloc byte[KeySize];
        Span<byte> shared = stackalloc byte[KeySize];
        var ephemeralKey = new X25519EphemeralKey(ephemeralPrivate);
        try
        {
            message[..MessageLayout.InitiationSize].Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(message, MessageLayout.TypeInitiation);
            BinaryPrimitives.WriteUInt32LittleEndian(message[MessageLayout.InitiationSender..], senderIndex);

            NoiseConstants.InitialChainKey.CopyTo(chainKey);
            MixHash(NoiseConstants.InitialHash, remoteStatic, hash);

            var ephemeralPublic = message.Slice(MessageLayout.InitiationEphemeral, KeySize);
            ephemeralKey.DerivePublicKey(ephemeralPublic);
            NoiseKdf.Kdf1(chainKey, ephemeralPublic, chainKey);
            MixHash(hash, ephemeralPublic, hash);

            if (!ephemeralKey.TrySharedSecret(remoteStatic, shared))
            {
                return false;
            }

            NoiseKdf.Kdf2(chainKey, shared, chainKey, key);
            var encryptedStatic = message.Slice(MessageLayout.InitiationStatic, MessageLayout.InitiationStaticLength);
            ChaCha20Poly1305Aead.Seal(key, 0, localStaticPublic, hash, encryptedStatic);
            MixHash(hash, encryptedStatic, hash);

            if (precomputedStaticStatic.IndexOfAnyExcept((byte)0) < 0)
            {
                return false;
            }

            NoiseKdf.Kdf2(chainKey, precomputedStaticStatic, chainKey, key);
            var encryptedTimestamp = message.Slice(MessageLayout.InitiationTimestamp, MessageLayout.InitiationTimestampLength);
            ChaCha20Poly1305Aead.Seal(key, 0, timestamp[..Tai64N.Size], hash, encryptedTimestamp);
            MixHash(hash, encryptedTimestamp, hash);

            chainKey.CopyTo(handshake.ChainKey);
            hash.CopyTo(handshake.Hash);
            ephemeralPrivate.CopyTo(handshake.LocalEphemeralPrivate);
            handshake.LocalIndex = senderIndex;
            handshake.State = HandshakeState.InitiationCreated;
            return true;
        }
        finally
        {
            ephemeralKey.Dispose();
            CryptographicOperations.ZeroMemory(chainKey);
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>
    /// First half of consuming message 1 (§3.2 steps 1–2): recovers the initiator's static key so the caller can
    /// find the peer. <paramref name="chainKey"/> and <paramref name="hash"/> carry the state to <see cref="TryFinishInitiation"/>.
    /// </summary>
    public static bool TryOpenInitiationStatic(
        X25519StaticKey localStatic,
        ReadOnlySpan<byte> localStaticPublic,
        ReadOnlySpan<byte> message,
        Span<byte> chainKey,
        Span<byte> hash,
        Span<byte> initiatorStatic)
    {
        Span<byte> key = stackalloc byte[KeySize];
        Span<byte> shared = stackalloc byte[KeySize];
        try
        {
            var ephemeral = message.Slice(MessageLayout.InitiationEphemeral, KeySize);
            MixHash(NoiseConstants.InitialHash, localStaticPublic, hash);
            MixHash(hash, ephemeral, hash);
            NoiseKdf.Kdf1(NoiseConstants.InitialChainKey, ephemeral, chainKey);

            if (!localStatic.TrySharedSecret(ephemeral, shared))
            {
                return false;
            }

            NoiseKdf.Kdf2(chainKey, shared, chainKey, key);
            var encryptedStatic = message.Slice(MessageLayout.InitiationStatic, MessageLayout.InitiationStaticLength);
            if (!ChaCha20Poly1305Aead.Open(key, 0, encryptedStatic, hash, initiatorStatic))
            {
                return false;
            }

            MixHash(hash, encryptedStatic, hash);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>Second half of consuming message 1 (§3.2 step 4): decrypts the timestamp under the static-static secret.</summary>
    public static bool TryFinishInitiation(
        ReadOnlySpan<byte> precomputedStaticStatic,
        ReadOnlySpan<byte> message,
        Span<byte> chainKey,
        Span<byte> hash,
        Span<byte> timestamp)
    {
        if (precomputedStaticStatic.IndexOfAnyExcept((byte)0) < 0)
        {
            return false;
        }

        Span<byte> key = stackalloc byte[KeySize];
        try
        {
            NoiseKdf.Kdf2(chainKey, precomputedStaticStatic, chainKey, key);
            var encryptedTimestamp = message.Slice(MessageLayout.InitiationTimestamp, MessageLayout.InitiationTimestampLength);
            if (!ChaCha20Poly1305Aead.Open(key, 0, encryptedTimestamp, hash, timestamp[..Tai64N.Size]))
            {
                return false;
            }

            MixHash(hash, encryptedTimestamp, hash);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Builds message 2 (§3.3) from a handshake in state InitiationConsumed; moves it to ResponseCreated.</summary>
    public static bool CreateResponse(
        Handshake handshake,
        ReadOnlySpan<byte> remoteStatic,
        ReadOnlySpan<byte> presharedKey,
        ReadOnlySpan<byte> ephemeralPrivate,
        uint senderIndex,
        Span<byte> message)
    {
        if (handshake.State != HandshakeState.InitiationConsumed)
        {
            return false;
        }

        Span<byte> chainKey = stackalloc byte[KeySize];
        Span<byte> hash = stackalloc byte[KeySize];
        Span<byte> key = stackalloc byte[KeySize];
        Span<byte> ephemeralShared = stackalloc byte[KeySize];
        Span<byte> staticShared = stackalloc byte[KeySize];
        var ephemeralKey = new X25519EphemeralKey(ephemeralPrivate);
        try
        {
            handshake.ChainKey.CopyTo(chainKey);
            handshake.Hash.CopyTo(hash);
            message[..MessageLayout.ResponseSize].Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(message, MessageLayout.TypeResponse);
            BinaryPrimitives.WriteUInt32LittleEndian(message[MessageLayout.ResponseSender..], senderIndex);
            BinaryPrimitives.WriteUInt32LittleEndian(message[MessageLayout.ResponseReceiver..], handshake.RemoteIndex);

            var ephemeralPublic = message.Slice(MessageLayout.ResponseEphemeral, KeySize);
            ephemeralKey.DerivePublicKey(ephemeralPublic);
            MixHash(hash, ephemeralPublic, hash);
            NoiseKdf.Kdf1(chainKey, ephemeralPublic, chainKey);

            // DH(e_r, E_i), then DH(e_r, S_i): e_r imported into libcrypto once for its public key and both DHs.
            if (!ephemeralKey.TrySharedSecret(handshake.RemoteEphemeral, ephemeralShared)
                || !ephemeralKey.TrySharedSecret(remoteStatic, staticShared))
            {
                return false;
            }

            MixResponseSecrets(chainKey, hash, ephemeralShared, staticShared, presharedKey, key);

            var encryptedNothing = message.Slice(MessageLayout.ResponseEmpty, MessageLayout.TagSize);
            ChaCha20Poly1305Aead.Seal(key, 0, ReadOnlySpan<byte>.Empty, hash, encryptedNothing);
            MixHash(hash, encryptedNothing, hash);

            chainKey.CopyTo(handshake.ChainKey);
            hash.CopyTo(handshake.Hash);
            ephemeralPrivate.CopyTo(handshake.LocalEphemeralPrivate);
            handshake.LocalIndex = senderIndex;
            handshake.State = HandshakeState.ResponseCreated;
            return true;
        }
        finally
        {
            ephemeralKey.Dispose();
            CryptographicOperations.ZeroMemory(chainKey);
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(ephemeralShared);
            CryptographicOperations.ZeroMemory(staticShared);
        }
    }

    /// <summary>Consumes message 2 (§3.4) for a handshake in state InitiationCreated; on success moves it to ResponseConsumed.</summary>
    public static bool ConsumeResponse(
        Handshake handshake,
        X25519StaticKey localStatic,
        ReadOnlySpan<byte> presharedKey,
        ReadOnlySpan<byte> message)
    {
        if (handshake.State != HandshakeState.InitiationCreated)
        {
            return false;
        }

        Span<byte> chainKey = stackalloc byte[KeySize];
        Span<byte> hash = stackalloc byte[KeySize];
        Span<byte> key = stackalloc byte[KeySize];
        Span<byte> ephemeralShared = stackalloc byte[KeySize];
        Span<byte> staticShared = stackalloc byte[KeySize];
        try
        {
            handshake.ChainKey.CopyTo(chainKey);
            handshake.Hash.CopyTo(hash);
            var ephemeral = message.Slice(MessageLayout.ResponseEphemeral, KeySize);
            MixHash(hash, ephemeral, hash);
            NoiseKdf.Kdf1(chainKey, ephemeral, chainKey);

            // DH(e_i, E_r), then DH(s_i, E_r): the same two secrets the responder computed from its side.
            if (!X25519.TrySharedSecret(handshake.LocalEphemeralPrivate, ephemeral, ephemeralShared)
                || !localStatic.TrySharedSecret(ephemeral, staticShared))
            {
                return false;
            }

            MixResponseSecrets(chainKey, hash, ephemeralShared, staticShared, presharedKey, key);

            var encryptedNothing = message.Slice(MessageLayout.ResponseEmpty, MessageLayout.TagSize);
            if (!ChaCha20Poly1305Aead.Open(key, 0, encryptedNothing, hash, Span<byte>.Empty))
            {
                return false;
            }

            MixHash(hash, encryptedNothing, hash);

            chainKey.CopyTo(handshake.ChainKey);
            hash.CopyTo(handshake.Hash);
            ephemeral.CopyTo(handshake.RemoteEphemeral);
            handshake.RemoteIndex = BinaryPrimitives.ReadUInt32LittleEndian(message[MessageLayout.ResponseSender..]);
            handshake.State = HandshakeState.ResponseConsumed;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(chainKey);
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(ephemeralShared);
            CryptographicOperations.ZeroMemory(staticShared);
        }
    }

    /// <summary>(T1, T2) = KDF2(C, empty) (§3.5).</summary>
    public static void DeriveTransportKeys(ReadOnlySpan<byte> chainKey, Span<byte> first, Span<byte> second) =>
        NoiseKdf.Kdf2(chainKey, ReadOnlySpan<byte>.Empty, first, second);

    /// <summary>
    /// The part of message 2 both sides compute alike (§3.3 steps 3–5, §3.4 steps 3–5): mix the ephemeral-ephemeral
    /// and the ephemeral-static secrets into C, then the preshared key, yielding the AEAD key and τ for H.
    /// </summary>
    private static void MixResponseSecrets(
        Span<byte> chainKey,
        Span<byte> hash,
        ReadOnlySpan<byte> ephemeralShared,
        ReadOnlySpan<byte> staticShared,
        ReadOnlySpan<byte> presharedKey,
        Span<byte> key)
    {
        Span<byte> tau = stackalloc byte[KeySize];
        try
        {
            NoiseKdf.Kdf1(chainKey, ephemeralShared, chainKey);
            NoiseKdf.Kdf1(chainKey, staticShared, chainKey);
            NoiseKdf.Kdf3(chainKey, presharedKey, chainKey, tau, key);
            MixHash(hash, tau, hash);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(tau);
        }
    }

    private static void MixHash(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> data, Span<byte> result) =>
        Blake2s.Hash(hash, data, result);
}
