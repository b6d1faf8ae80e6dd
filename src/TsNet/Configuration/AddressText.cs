using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TsNet.Configuration;

/// <summary>
/// Strict parsing of addresses and prefixes as wg writes them: dotted-quad IPv4 (no shorthand like <c>10.1</c>, no
/// octal) or IPv6 without a zone, optionally followed by <c>/prefix</c>.
/// </summary>
internal static class AddressText
{
    /// <summary>Parses <c>address</c> or <c>address/prefix</c>; <paramref name="prefix"/> is null when none was written.</summary>
    public static bool TryParse(string text, out IPAddress address, out int? prefix, out string? error)
    {
        address = IPAddress.None;
        prefix = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressPart = slash < 0 ? text : text[..slash];
        if (!TryParseAddress(addressPart, out address))
        {
            error = $"'{text}' is not an IP address";
            return false;
        }

        if (slash >= 0)
        {
            var max = MaxPrefix(address);
            var prefixPart = text[(slash + 1)..];
            if (prefixPart.Length is 0 or > 3
                || !int.TryParse(prefixPart, NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                || length > max)
            {
                error = $"'{text}' has a bad prefix length '{prefixPart}' (0-{max} for {(max == 32 ? "IPv4" : "IPv6")})";
                return false;
            }

            prefix = length;
        }

        error = null;
        return true;
    }

    /// <summary>A dotted-quad IPv4 address or an IPv6 address without a zone.</summary>
    public static bool TryParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            if (text.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(text, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            address = v6;
            return true;
        }

        Span<byte> bytes = stackalloc byte[4];
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        for (var i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 3
                || (part.Length > 1 && part[0] == '0')
                || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out bytes[i]))
            {
                return false;
            }
        }

        address = new IPAddress(bytes);
        return true;
    }

    /// <summary>32 for IPv4, 128 for IPv6.</summary>
    public static int MaxPrefix(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>The network of <paramref name="address"/>/<paramref name="prefix"/> with the host bits cleared (as wg does).</summary>
    public static IPNetwork Network(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPNetwork(new IPAddress(bytes), prefix);
    }
}
