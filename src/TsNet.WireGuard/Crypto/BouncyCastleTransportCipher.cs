using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using BouncyCastleChaCha20Poly1305 = Org.BouncyCastle.Crypto.Modes.ChaCha20Poly1305;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// Transport AEAD over BouncyCastle's managed ChaCha20-Poly1305: the fallback for platforms without a native one.
/// </summary>
/// <remarks>
/// BouncyCastle 1.8.10 only works on arrays and re-initialises through a <see cref="ParametersWithIV"/>, so each
/// packet goes through a per-instance scratch array and allocates a few hundred bytes inside BouncyCastle (IV and
/// Poly1305 key copies; measured 416 B per seal, 640 B per open): the one backend exempt from the no-allocation
/// rule, used only where no native ChaCha20-Poly1305 exists. The key is given once; later initialisations pass a
/// null key, which keeps the engine's. BouncyCastle refuses to encrypt twice in a row under the same nonce
/// (ArgumentException), which WireGuard's strictly increasing counters never do.
/// </remarks>
internal sealed class BouncyCastleTransportCipher : TransportCipher
{
    // Large enough for a 1500-byte MTU packet plus tag; larger packets grow it once.
    private const int InitialScratchSize = 2048;

    private readonly BouncyCastleChaCha20Poly1305 _sealer = new();
    private readonly BouncyCastleChaCha20Poly1305 _opener = new();
    private readonly byte[] _nonce = new byte[ChaCha20Poly1305Aead.NonceSize];
    private byte[] _scratch = new byte[InitialScratchSize];
    private bool _sealerKeyed;
    private bool _openerKeyed;
    private byte[]? _key;
    private bool _disposed;

    public BouncyCastleTransportCipher(ReadOnlySpan<byte> key)
    {
        _key = key.ToArray();
    }

    public override TransportCipherBackend Backend => TransportCipherBackend.BouncyCastle;

    public override void Seal(ulong counter, Span<byte> data, Span<byte> tag)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tag.Length != TagSize)
        {
            throw new ArgumentException("The tag is 16 bytes.", nameof(tag));
        }

        Init(_sealer, forEncryption: true, counter, ref _sealerKeyed);
        byte[] scratch = Scratch(data.Length + TagSize);
        data.CopyTo(scratch);
        int written = _sealer.ProcessBytes(scratch, 0, data.Length, scratch, 0);
        _sealer.DoFinal(scratch, written);
        scratch.AsSpan(0, data.Length).CopyTo(data);
        scratch.AsSpan(data.Length, TagSize).CopyTo(tag);
        CryptographicOperations.ZeroMemory(scratch.AsSpan(0, data.Length + TagSize));
    }

    public override bool Open(ulong counter, Span<byte> data, ReadOnlySpan<byte> tag)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tag.Length != TagSize)
        {
            data.Clear();
            return false;
        }

        Init(_opener, forEncryption: false, counter, ref _openerKeyed);
        int length = data.Length + TagSize;
        byte[] scratch = Scratch(length);
        data.CopyTo(scratch);
        tag.CopyTo(scratch.AsSpan(data.Length));
        try
        {
            // BouncyCastle holds back the last 16 bytes as the tag, so decrypting into the same array is safe.
            int written = _opener.ProcessBytes(scratch, 0, length, scratch, 0);
            _opener.DoFinal(scratch, written);
            scratch.AsSpan(0, data.Length).CopyTo(data);
            return true;
        }
        catch (InvalidCipherTextException)
        {
            data.Clear();
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch.AsSpan(0, length));
        }
    }

    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_key is not null)
        {
            CryptographicOperations.ZeroMemory(_key);
            _key = null;
        }

        // BouncyCastle keeps its own key copy inside the engines and offers no way to wipe it;
        // it goes with the engines to the garbage collector.
        CryptographicOperations.ZeroMemory(_scratch);
    }

    private void Init(BouncyCastleChaCha20Poly1305 aead, bool forEncryption, ulong counter, ref bool keyed)
    {
        ChaCha20Poly1305Aead.WriteNonce(counter, _nonce);
        if (keyed)
        {
            aead.Init(forEncryption, new ParametersWithIV(null, _nonce));
            return;
        }

        aead.Init(forEncryption, new ParametersWithIV(new KeyParameter(_key), _nonce));
        keyed = true;
        // Once both engines hold the key, this instance's copy is no longer needed.
        if (_sealerKeyed && _openerKeyed && _key is not null)
        {
            CryptographicOperations.ZeroMemory(_key);
            _key = null;
        }
    }

    private byte[] Scratch(int length)
    {
        if (_scratch.Length < length)
        {
            CryptographicOperations.ZeroMemory(_scratch);
            _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
        }

        return _scratch;
    }
}
