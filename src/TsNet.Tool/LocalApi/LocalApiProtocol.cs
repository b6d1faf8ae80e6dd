using System.Buffers;
using System.Globalization;
using System.Net;

namespace TsNet.Tool.LocalApi;

/// <summary>
/// The local API's wire format, a line protocol on a Unix domain socket (one request per connection). The client
/// sends one UTF-8 request line (at most <see cref="MaxRequestBytes"/>): <c>status</c>, <c>ping TARGET COUNT</c> or
/// <c>whois IP[:PORT]</c>. The node answers with JSON lines, each one object with a single property naming what it
/// is (<see cref="LocalApiAnswerKind"/>) — <c>{"status":TailnetStatus}</c>, <c>{"pong":PingReply}</c> and
/// <c>{"noReply":"why"}</c> per ping attempt, <c>{"identity":TailnetPeerIdentity}</c> or <c>{"unknown":"why"}</c>,
/// <c>{"error":"why"}</c> — and closes the connection. A line protocol rather than HTTP: the socket is bound, made
/// 0600 and only then listened on (no window where others may connect), and it costs no web host at start.
/// </summary>
internal static class LocalApiProtocol
{
    /// <summary>Longest request line, newline included: a request is a word and a host name or address.</summary>
    public const int MaxRequestBytes = 512;

    /// <summary>Most pings one request may ask for (<c>-c</c>).</summary>
    public const int MaxPingCount = 100;

    /// <summary>The <c>status</c> request.</summary>
    public const string Status = "status";

    /// <summary>The <c>ping</c> request word.</summary>
    public const string Ping = "ping";

    /// <summary>The <c>whois</c> request word.</summary>
    public const string WhoIs = "whois";

    /// <summary>The request line for a ping of <paramref name="target"/>, <paramref name="count"/> times.</summary>
    public static string PingRequest(string target, int count) => string.Create(CultureInfo.InvariantCulture, $"{Ping} {target} {count}");

    /// <summary>The request line for a whois of <paramref name="endpoint"/>.</summary>
    public static string WhoIsRequest(IPEndPoint endpoint) => WhoIs + " " + endpoint;

    /// <summary>
    /// Parses <c>IP</c> or <c>IP:PORT</c> (IPv6 bare, or in brackets with a port) into an endpoint; port 0 when none.
    /// </summary>
    public static bool TryParseWhoIsTarget(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        if (IPAddress.TryParse(text, out var address) && !text.StartsWith('['))
        {
            endpoint = new IPEndPoint(address, 0);
            return !HasScope(address);
        }

        if (IPEndPoint.TryParse(text, out var parsed) && !HasScope(parsed.Address)
            && (parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork || text.StartsWith('[')))
        {
            endpoint = parsed;
            return true;
        }

        return false;
    }

    // A zone (fe80::1%eth0) names a host interface; tailnet addresses have none.
    private static bool HasScope(IPAddress address) => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && address.ScopeId != 0;

    /// <summary>A ping target as a request carries it: a host name (letters, digits, '-', '.') or an IP address.</summary>
    public static bool IsValidPingTarget(string text) =>
        text.Length is > 0 and <= 253
        && (IPAddress.TryParse(text, out _) || IsHostNameText(text));

    // Not LINQ's All over the string's chars: no enumerable code for char in the native tool.
    private static readonly SearchValues<char> s_hostNameChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._");

    private static bool IsHostNameText(string text) => !text.AsSpan().ContainsAnyExcept(s_hostNameChars);
}
