using System.Runtime.InteropServices;

namespace TsNet.WireGuard.Crypto;

/// <summary>
/// OpenSSL 3's <c>OSSL_PARAM</c> (openssl/core.h): key name, type, data pointer, data size, returned size. Built on
/// the stack for one call, so importing a key costs no managed allocation.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct OsslParam
{
    /// <summary>OSSL_PARAM_OCTET_STRING.</summary>
    public const uint TypeOctetString = 5;

    /// <summary>NUL-terminated parameter name; null marks the end of an array.</summary>
    public byte* Key;

    public uint DataType;

    public void* Data;

    public nuint DataSize;

    public nuint ReturnSize;

    /// <summary>An octet-string parameter; <paramref name="key"/> must be NUL-terminated (a u8 literal is).</summary>
    public static OsslParam OctetString(byte* key, byte* data, int length) => new()
    {
        Key = key,
        DataType = TypeOctetString,
        Data = data,
        DataSize = (nuint)length,
        ReturnSize = nuint.MaxValue, // OSSL_PARAM_UNMODIFIED
    };
}
