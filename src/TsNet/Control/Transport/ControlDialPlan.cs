using System.Net;
using System.Net.Sockets;

namespace TsNet.Control.Transport;

/// <summary>
/// Server URL → the connections to try (protocol doc §3). A second target starts when the first fails or after
/// <see cref="FallbackDelay"/>, whichever comes first; the first handshake that succeeds wins.
/// </summary>
internal static class ControlDialPlan
{
    /// <summary>Go waits this long on plain HTTP before also trying HTTPS.</summary>
    public static readonly TimeSpan FallbackDelay = TimeSpan.FromMilliseconds(500);

    private const int HttpPort = 80;
    private const int HttpsPort = 443;

    /// <exception cref="ArgumentException">Not an absolute http or https URL.</exception>
    public static IReadOnlyList<ControlDialTarget> For(Uri serverUrl)
    {
        if (!serverUrl.IsAbsoluteUri || (serverUrl.Scheme != Uri.UriSchemeHttp && serverUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"control server URL must be http:// or https://, not {serverUrl}", nameof(serverUrl));
        }

        string host = serverUrl.IdnHost;
        bool explicitPort = !serverUrl.IsDefaultPort;
        if (serverUrl.Scheme == Uri.UriSchemeHttps)
        {
            return explicitPort
                ? [new ControlDialTarget(host, serverUrl.Port, UseTls: true, TimeSpan.Zero)]
                : [new ControlDialTarget(host, HttpPort, UseTls: false, TimeSpan.Zero), new ControlDialTarget(host, HttpsPort, UseTls: true, FallbackDelay)];
        }

        var plain = new ControlDialTarget(host, serverUrl.Port, UseTls: false, TimeSpan.Zero);
        return IsPrivateOrLoopback(host)
            ? [plain]
            : [plain, new ControlDialTarget(host, HttpsPort, UseTls: true, FallbackDelay)];
    }

    /// <summary>localhost, loopback, RFC 1918 / RFC 4193 and link-local addresses get no HTTPS fallback.</summary>
    public static bool IsPrivateOrLoopback(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!IPAddress.TryParse(host, out var address))
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            byte first = address.GetAddressBytes()[0];
            return (first & 0xfe) == 0xfc || address.IsIPv6LinkLocal;
        }

        byte[] b = address.GetAddressBytes();
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
    }
}
