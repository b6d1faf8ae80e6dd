namespace TsNet.WireGuard.Crypto;

/// <summary>Which implementation computes X25519.</summary>
internal enum X25519Backend
{
    /// <summary>The fastest backend available in this process (<see cref="X25519.AutoBackend"/>).</summary>
    Auto,

    /// <summary>libcrypto's X25519 through EVP_PKEY_derive (assembly field arithmetic on x86-64 and arm64).</summary>
    OpenSsl,

    /// <summary>Our own Montgomery ladder over <see cref="Field25519"/>: portable, allocation-free.</summary>
    Managed,
}
