using System.Diagnostics.CodeAnalysis;

namespace TsNet.Control.Transport;

/// <summary>Tailscale's key text form: an exact lowercase prefix, then exactly 64 hex digits (doc §2).</summary>
internal static class KeyText
{
    private const int HexLength = 64;

    public static bool TryParseHex([NotNullWhen(true)] string? text, string prefix, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        if (text is null || text.Length != prefix.Length + HexLength || !text.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        byte[] result = new byte[HexLength / 2];
        if (Convert.FromHexString(text.AsSpan(prefix.Length), result, out _, out int written) != System.Buffers.OperationStatus.Done
            || written != result.Length)
        {
            return false;
        }

        bytes = result;
        return true;
    }
}
