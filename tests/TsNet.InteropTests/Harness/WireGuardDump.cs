using System.Globalization;

namespace TsNet.InteropTests.Harness;

/// <summary>One peer line of <c>wg show &lt;tun&gt; dump</c>.</summary>
public sealed record WireGuardPeerStatus(
    string PublicKey,
    string? PresharedKey,
    string? Endpoint,
    IReadOnlyList<string> AllowedIps,
    DateTimeOffset? LatestHandshake,
    long RxBytes,
    long TxBytes,
    int? PersistentKeepaliveSeconds);

/// <summary><c>wg show &lt;tun&gt; dump</c>, parsed: the interface line and the peer lines (tab-separated).</summary>
public sealed record WireGuardDump(string PublicKey, int ListenPort, IReadOnlyList<WireGuardPeerStatus> Peers)
{
    /// <summary>Parses the dump text; throws <see cref="FormatException"/> with the text when it is malformed.</summary>
    public static WireGuardDump Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0)
        {
            throw new FormatException("empty wg dump");
        }

        // private-key public-key listen-port fwmark
        var head = lines[0].Split('\t');
        if (head.Length < 4)
        {
            throw new FormatException("unexpected wg dump interface line: " + lines[0]);
        }

        var peers = new List<WireGuardPeerStatus>();
        foreach (var line in lines.Skip(1))
        {
            // public-key preshared-key endpoint allowed-ips latest-handshake rx tx persistent-keepalive
            var f = line.Split('\t');
            if (f.Length < 8)
            {
                throw new FormatException("unexpected wg dump peer line: " + line);
            }

            var handshake = long.Parse(f[4], CultureInfo.InvariantCulture);
            peers.Add(new WireGuardPeerStatus(
                f[0],
                f[1] == "(none)" ? null : f[1],
                f[2] == "(none)" ? null : f[2],
                f[3] == "(none)" ? Array.Empty<string>() : f[3].Split(','),
                handshake == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(handshake),
                long.Parse(f[5], CultureInfo.InvariantCulture),
                long.Parse(f[6], CultureInfo.InvariantCulture),
                f[7] == "off" ? null : int.Parse(f[7], CultureInfo.InvariantCulture)));
        }

        return new WireGuardDump(head[1], int.Parse(head[2], CultureInfo.InvariantCulture), peers);
    }
}
