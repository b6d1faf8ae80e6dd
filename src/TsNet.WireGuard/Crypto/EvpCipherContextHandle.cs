using Microsoft.Win32.SafeHandles;

namespace TsNet.WireGuard.Crypto;

/// <summary>An owned <c>EVP_CIPHER_CTX*</c>; freeing it also cleanses the key schedule OpenSSL holds.</summary>
internal sealed class EvpCipherContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public EvpCipherContextHandle()
        : base(ownsHandle: true)
    {
        SetHandle(LibCrypto.CipherCtxNew());
        if (IsInvalid)
        {
            throw new System.Security.Cryptography.CryptographicException("EVP_CIPHER_CTX_new failed.");
        }
    }

    protected override bool ReleaseHandle()
    {
        LibCrypto.CipherCtxFree(handle);
        return true;
    }
}
