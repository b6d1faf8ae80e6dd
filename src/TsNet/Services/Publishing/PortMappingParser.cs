using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TsNet.Configuration;

namespace TsNet.Services.Publishing;

/// <summary>
/// The CLI syntax of port mappings: <c>tcp|udp:[LISTEN_ADDR:]PORT=TARGET:PORT</c> (forward, host → tailnet) and
/// <c>tcp|udp:PORT=HOST_ADDR:PORT</c> (publish, tailnet → host). Every error is a <see cref="FormatException"/>
/// that quotes the whole text, says which part is wrong and shows the expected form.
/// </summary>
internal static class PortMappingParser
{
    private const string ForwardSyntax = "tcp|udp:[LISTEN_ADDR:]PORT=TARGET:PORT, e.g. tcp:127.0.0.1:8080=100.64.0.1:80";
    private const string PublishSyntax = "tcp|udp:PORT=HOST_ADDR:PORT, e.g. tcp:80=127.0.0.1:8000";

    public static (PortProtocol Protocol, IPEndPoint Listen, string TargetHost, int TargetPort) ParseForward(string text)
    {
        var (protocol, left, right) = SplitMapping(text, ForwardSyntax);
        IPEndPoint listen;
        if (IsDigits(left))
        {
            listen = new IPEndPoint(IPAddress.Loopback, ParsePort(text, left, allowZero: true, "listen port", ForwardSyntax));
        }
        else
        {
            var (host, portText) = SplitHostPort(text, left, "listen address", ForwardSyntax);
            if (!AddressText.TryParseAddress(host, out var address))
            {
                throw Error(text, $"the listen address '{host}' is not an IP address", ForwardSyntax);
            }

            listen = new IPEndPoint(address, ParsePort(text, portText, allowZero: true, "listen port", ForwardSyntax));
        }

        var (targetHost, targetPortText) = SplitHostPort(text, right, "target", ForwardSyntax);
        if (!IsValidTargetHost(targetHost))
        {
            throw Error(text, $"the target '{targetHost}' is neither an IP address nor a peer name", ForwardSyntax);
        }

        return (protocol, listen, targetHost, ParsePort(text, targetPortText, allowZero: false, "target port", ForwardSyntax));
    }

    public static (PortProtocol Protocol, int OverlayPort, IPEndPoint HostTarget) ParsePublish(string text)
    {
        var (protocol, left, right) = SplitMapping(text, PublishSyntax);
        if (!IsDigits(left))
        {
            throw Error(text, $"'{left}' before '=' must be just the overlay port (the node listens on all its addresses)", PublishSyntax);
        }

        var overlayPort = ParsePort(text, left, allowZero: false, "overlay port", PublishSyntax);
        var (host, portText) = SplitHostPort(text, right, "host address", PublishSyntax);
        if (!AddressText.TryParseAddress(host, out var address))
        {
            throw Error(text, $"the host address '{host}' is not an IP address (write 127.0.0.1 or [::1] for this machine)", PublishSyntax);
        }

        return (protocol, overlayPort, new IPEndPoint(address, ParsePort(text, portText, allowZero: false, "host port", PublishSyntax)));
    }

    /// <summary>Checks an overlay <c>host:port</c> given to <see cref="PortMapping.HostToTailnet(PortProtocol, IPEndPoint, string)"/>.</summary>
    public static bool TrySplitTarget(string target, out string host, out int port, out string? error)
    {
        try
        {
            var (h, portText) = SplitHostPort(target, target.Trim(), "target", "host:port, e.g. 100.64.0.1:80, [fd7a::1]:80 or db:5432");
            if (!IsValidTargetHost(h))
            {
                throw Error(target, $"'{h}' is neither an IP address nor a peer name", "host:port");
            }

            host = h;
            port = ParsePort(target, portText, allowZero: false, "port", "host:port");
            error = null;
            return true;
        }
        catch (FormatException ex)
        {
            host = string.Empty;
            port = 0;
            error = ex.Message;
            return false;
        }
    }

    /// <summary><c>host:port</c> with an IPv6 literal in brackets.</summary>
    public static string FormatHostPort(string host, int port) =>
        (host.Contains(':', StringComparison.Ordinal) ? "[" + host + "]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);

    public static string FormatEndPoint(IPEndPoint endPoint) => FormatHostPort(endPoint.Address.ToString(), endPoint.Port);

    private static (PortProtocol Protocol, string Left, string Right) SplitMapping(string text, string syntax)
    {
        var trimmed = text.Trim();
        var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            throw Error(text, "it does not start with tcp: or udp:", syntax);
        }

        var protocolText = trimmed[..colon];
        PortProtocol protocol;
        if (protocolText.Equals("tcp", StringComparison.OrdinalIgnoreCase))
        {
            protocol = PortProtocol.Tcp;
        }
        else if (protocolText.Equals("udp", StringComparison.OrdinalIgnoreCase))
        {
            protocol = PortProtocol.Udp;
        }
        else
        {
            throw Error(text, $"the protocol '{protocolText}' is neither tcp nor udp", syntax);
        }

        var rest = trimmed[(colon + 1)..];
        var equals = rest.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0 || rest.IndexOf('=', equals + 1) >= 0)
        {
            throw Error(text, "it needs exactly one '=' between the listening side and the target", syntax);
        }

        var left = rest[..equals];
        var right = rest[(equals + 1)..];
        if (left.Length == 0 || right.Length == 0)
        {
            throw Error(text, left.Length == 0 ? "nothing before '='" : "nothing after '='", syntax);
        }

        return (protocol, left, right);
    }

    /// <summary>Splits <c>host:port</c> or <c>[v6]:port</c>; the host comes back without brackets.</summary>
    private static (string Host, string Port) SplitHostPort(string text, string part, string what, string syntax)
    {
        if (part.StartsWith('['))
        {
            var close = part.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw Error(text, $"the {what} '{part}' has '[' without ']'", syntax);
            }

            if (close + 1 >= part.Length || part[close + 1] != ':')
            {
                throw Error(text, $"the {what} '{part}' has no ':PORT' after ']'", syntax);
            }

            var inner = part[1..close];
            if (!IPAddress.TryParse(inner, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                throw Error(text, $"'[{inner}]' in the {what} is not an IPv6 address", syntax);
            }

            return (inner, part[(close + 2)..]);
        }

        var colon = part.LastIndexOf(':');
        if (colon < 0)
        {
            throw Error(text, $"the {what} '{part}' has no ':PORT'", syntax);
        }

        if (part.IndexOf(':', StringComparison.Ordinal) != colon)
        {
            throw Error(text, $"the {what} '{part}' has more than one ':' (write IPv6 addresses in brackets: [fd7a::1]:80)", syntax);
        }

        if (colon == 0)
        {
            throw Error(text, $"the {what} '{part}' has no address before ':PORT'", syntax);
        }

        return (part[..colon], part[(colon + 1)..]);
    }

    private static int ParsePort(string text, string portText, bool allowZero, string what, string syntax)
    {
        var min = allowZero ? 0 : 1;
        if (!IsDigits(portText)
            || portText.Length > 5
            || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port < min
            || port > IPEndPoint.MaxPort)
        {
            throw Error(text, $"the {what} '{portText}' is not a number from {min} to 65535", syntax);
        }

        return port;
    }

    /// <summary>An IP literal or something that can be a peer name (DNS-like labels; resolution happens at publish time).</summary>
    private static bool IsValidTargetHost(string host)
    {
        if (host.Length == 0 || host.Length > 253)
        {
            return false;
        }

        if (AddressText.TryParseAddress(host, out _))
        {
            return true;
        }

        foreach (var c in host)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDigits(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static FormatException Error(string text, string problem, string syntax) =>
        new($"Port mapping '{text}': {problem}; expected {syntax}.");
}
