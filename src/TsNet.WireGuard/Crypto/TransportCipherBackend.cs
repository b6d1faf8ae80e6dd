namespace TsNet.WireGuard.Crypto;

/// <summary>Which implementation carries transport-data AEAD.</summary>
internal enum TransportCipherBackend
{
    /// <summary>The fastest backend available on this machine (see <see cref="TransportCipher.Create(ReadOnlySpan{byte})"/>).</summary>
    Auto,

    /// <summary>libcrypto's EVP ChaCha20-Poly1305 called directly, one context per key.</summary>
    OpenSsl,

    /// <summary><see cref="System.Security.Cryptography.ChaCha20Poly1305"/>.</summary>
    Bcl,

    /// <summary>BouncyCastle's managed ChaCha20-Poly1305: works everywhere, slowest.</summary>
    BouncyCastle,
}
