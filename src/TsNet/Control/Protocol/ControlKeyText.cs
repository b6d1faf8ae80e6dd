using System.Buffers;

namespace TsNet.Control.Protocol;

/// <summary>
/// Tailscale's text forms of 32-byte keys: a fixed lowercase prefix and 64 hex digits (protocol doc §2). The prefix
/// must match exactly (it says which kind of key this is, so a node key is never taken for a machine key); hex
/// digits may be upper case on input and are lower case on output.
/// </summary>
internal static class ControlKeyText
{
    /// <summary>Node public key (<c>Node.Key</c>, <c>RegisterRequest.NodeKey</c>).</summary>
    public const string NodePublicPrefix = "nodekey:";

    /// <summary>Machine public key (the Noise static key; <c>/key</c>'s <c>publicKey</c>).</summary>
    public const string MachinePublicPrefix = "mkey:";

    /// <summary>Private keys of either kind (machine and node).</summary>
    public const string PrivatePrefix = "privkey:";

    /// <summary>Disco public key.</summary>
    public const string DiscoPublicPrefix = "discokey:";

    private const int HexLength = 2 * WireGuardKey.Size;

    /// <summary><paramref name="prefix"/> followed by the key's 64 lowercase hex digits.</summary>
    public static string Format(string prefix, WireGuardKey key) => prefix + Convert.ToHexStringLower(key.Bytes);

    /// <summary><c>discokey:</c> followed by the key's 64 lowercase hex digits.</summary>
    public static string Format(DiscoKey key) => DiscoPublicPrefix + Convert.ToHexStringLower(key.Bytes);

    /// <summary>Parses <paramref name="prefix"/> + 64 hex digits; false for anything else (also the empty string).</summary>
    public static bool TryParse(string prefix, ReadOnlySpan<char> text, out WireGuardKey key)
    {
        key = default;
        Span<byte> bytes = stackalloc byte[WireGuardKey.Size];
        if (!TryParseBytes(prefix, text, bytes))
        {
            return false;
        }

        key = new WireGuardKey(bytes);
        return true;
    }

    /// <summary>Parses <c>discokey:</c> + 64 hex digits; false for anything else.</summary>
    public static bool TryParseDisco(ReadOnlySpan<char> text, out DiscoKey key)
    {
        key = default;
        Span<byte> bytes = stackalloc byte[DiscoKey.Size];
        if (!TryParseBytes(DiscoPublicPrefix, text, bytes))
        {
            return false;
        }

        key = new DiscoKey(bytes);
        return true;
    }

    /// <summary>Parses <paramref name="prefix"/> + hex digits filling exactly <paramref name="bytes"/>; false for anything else.</summary>
    public static bool TryParseBytes(string prefix, ReadOnlySpan<char> text, Span<byte> bytes) =>
        text.Length == prefix.Length + HexLength
        && text.StartsWith(prefix, StringComparison.Ordinal)
        && Convert.FromHexString(text[prefix.Length..], bytes, out _, out var written) == OperationStatus.Done
        && written == bytes.Length;
}
