using Microsoft.Win32.SafeHandles;

namespace TsNet.WireGuard.Crypto;

/// <summary>An owned <c>EVP_PKEY_CTX*</c> (it holds a reference to its key and, once set, to the peer key).</summary>
internal sealed class EvpPkeyContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public EvpPkeyContextHandle(nint ctx)
        : base(ownsHandle: true)
    {
        SetHandle(ctx);
    }

    protected override bool ReleaseHandle()
    {
        LibCryptoKeyExchange.PkeyCtxFree(handle);
        return true;
    }
}
