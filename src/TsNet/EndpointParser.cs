using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TsNet;

/// <summary>Parses and resolves peer endpoints written as <c>host:port</c>, <c>a.b.c.d:port</c> or <c>[v6]:port</c>.</summary>
internal static class EndpointParser
{
    /// <summary>Splits <paramref name="text"/> into host and port; false with a reason when malformed.</summary>
    public static bool TrySplit(string text, out string host, out int port, out string? error)
    {
        host = string.Empty;
        port = 0;
        error = null;
        var trimmed = text.Trim();
        int colon;
        if (trimmed.StartsWith('['))
        {
            var close = trimmed.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= trimmed.Length || trimmed[close + 1] != ':')
            {
                error = $"'{text}' is not [address]:port";
                return false;
            }

            host = trimmed[1..close];
            colon = close + 1;
        }
        else
        {
            colon = trimmed.LastIndexOf(':');
            if (colon <= 0 || trimmed.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"'{text}' is not host:port (write IPv6 addresses as [address]:port)";
                return false;
            }

            host = trimmed[..colon];
        }

        if (!int.TryParse(trimmed.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            error = $"'{text}' has no valid port (1-65535)";
            return false;
        }

        return true;
    }

    /// <summary>Resolves <paramref name="text"/> to one endpoint (an IP literal directly, a name through DNS, IPv4 preferred).</summary>
    public static async Task<IPEndPoint> ResolveAsync(string text, CancellationToken cancellationToken)
    {
        if (!TrySplit(text, out var host, out var port, out var error))
        {
            throw new FormatException(error);
        }

        if (IPAddress.TryParse(host, out var literal))
        {
            return new IPEndPoint(literal, port);
        }

        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound);
        return new IPEndPoint(chosen, port);
    }
}
