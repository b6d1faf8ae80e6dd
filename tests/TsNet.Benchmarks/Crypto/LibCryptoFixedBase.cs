using System.Runtime.InteropServices;

namespace TsNet.Benchmarks.Crypto;

/// <summary>
/// libcrypto's own public-key computation for an X25519 private key (EVP_PKEY_new_raw_private_key computes the
/// public half on import with its fixed-base, precomputed-table code; EVP_PKEY_get_raw_public_key reads it back),
/// timed against the variable-base DH with u = 9 that <c>OpenSslX25519.DerivePublicKey</c> runs.
/// </summary>
internal static unsafe partial class LibCryptoFixedBase
{
    private const int EvpPkeyX25519 = 1034; // NID_X25519

    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        nint key;
        fixed (byte* p = privateKey)
        {
            key = EVP_PKEY_new_raw_private_key(EvpPkeyX25519, 0, p, (nuint)privateKey.Length);
        }

        if (key == 0)
        {
            throw new InvalidOperationException("EVP_PKEY_new_raw_private_key failed.");
        }

        try
        {
            nuint length = (nuint)publicKey.Length;
            fixed (byte* q = publicKey)
            {
                if (EVP_PKEY_get_raw_public_key(key, q, &length) != 1 || length != 32)
                {
                    throw new InvalidOperationException("EVP_PKEY_get_raw_public_key failed.");
                }
            }
        }
        finally
        {
            EVP_PKEY_free(key);
        }
    }

    [LibraryImport("libcrypto.so.3")]
    private static partial nint EVP_PKEY_new_raw_private_key(int type, nint engine, byte* privateKey, nuint length);

    [LibraryImport("libcrypto.so.3")]
    private static partial int EVP_PKEY_get_raw_public_key(nint key, byte* publicKey, nuint* length);

    [LibraryImport("libcrypto.so.3")]
    private static partial void EVP_PKEY_free(nint key);
}
