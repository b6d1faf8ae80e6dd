using Microsoft.Win32.SafeHandles;

namespace TsNet.WireGuard.Crypto;

/// <summary>An owned <c>EVP_PKEY*</c>; freeing a private key also cleanses it.</summary>
internal sealed class EvpPkeyHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public EvpPkeyHandle(nint pkey)
        : base(ownsHandle: true)
    {
        SetHandle(pkey);
    }

    protected override bool ReleaseHandle()
    {
        LibCryptoKeyExchange.PkeyFree(handle);
        return true;
    }
}
