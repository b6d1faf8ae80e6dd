namespace TsNet.Tests.Crypto;

/// <summary>Hex helpers for known-answer vectors.</summary>
internal static class Hex
{
    public static byte[] Decode(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>first..last inclusive, e.g. Range(0x80, 0x9f) for RFC 8439's key.</summary>
    public static byte[] Range(int first, int last)
    {
        byte[] bytes = new byte[last - first + 1];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(first + i);
        }

        return bytes;
    }
}
