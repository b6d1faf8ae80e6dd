using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TsNet.Tool.LocalApi;

/// <summary>
/// Answers one local API request (<see cref="LocalApiProtocol"/>) from a running node: its status, pings with the path
/// of each reply, or who is behind an address. Knows nothing of sockets: it hands each answer line to a writer.
/// </summary>
/// <param name="node">The node <c>tsnet up</c> runs.</param>
/// <param name="timeProvider">Paces pings (one a second) and times them.</param>
internal sealed class LocalApiRequestHandler(TailnetServer node, TimeProvider timeProvider)
{
    /// <summary>How long one ping waits for its reply.</summary>
    public static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Pings start this far apart (as ping(8)), unless a reply took longer.</summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(1);

    /// <summary>Answers <paramref name="request"/> through <paramref name="writeLine"/> (one call per answer line).</summary>
    public async Task HandleAsync(string request, Func<byte[], CancellationToken, ValueTask> writeLine, CancellationToken cancellationToken)
    {
        var words = request.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            switch (words)
            {
                case [LocalApiProtocol.Status]:
                    await writeLine(LocalApiAnswerWriter.Line(LocalApiAnswerKind.Status, node.GetStatus(), TailnetJson.Status), cancellationToken).ConfigureAwait(false);
                    break;
                case [LocalApiProtocol.WhoIs, var target]:
                    await writeLine(await WhoIsAsync(target, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                    break;
                case [LocalApiProtocol.Ping, var target, var countText]
                    when int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= LocalApiProtocol.MaxPingCount:
                    await PingAsync(target, count, writeLine, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await writeLine(LocalApiAnswerWriter.Line(LocalApiAnswerKind.Error, $"unknown request '{Shorten(request)}': expected status, ping TARGET COUNT (1-{LocalApiProtocol.MaxPingCount}) or whois IP[:PORT]"), cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // The node is not started yet, faulted or stopping: say so rather than drop the connection.
            await writeLine(LocalApiAnswerWriter.Line(LocalApiAnswerKind.Error, "the node is not running: " + e.Message), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<byte[]> WhoIsAsync(string target, CancellationToken cancellationToken)
    {
        if (!LocalApiProtocol.TryParseWhoIsTarget(target, out var endpoint))
        {
            return LocalApiAnswerWriter.Line(LocalApiAnswerKind.Error, $"'{Shorten(target)}' is not IP or IP:PORT");
        }

        return await node.WhoIsAsync(endpoint, cancellationToken).ConfigureAwait(false) is { } identity
            ? LocalApiAnswerWriter.Line(LocalApiAnswerKind.Identity, identity, TailnetJson.PeerIdentity)
            : LocalApiAnswerWriter.Line(LocalApiAnswerKind.Unknown, $"no peer has the address {endpoint.Address}");
    }

    private async Task PingAsync(string target, int count, Func<byte[], CancellationToken, ValueTask> writeLine, CancellationToken cancellationToken)
    {
        var (address, peer, problem) = ResolvePingTarget(node.GetStatus(), target);
        if (address is null)
        {
            await writeLine(LocalApiAnswerWriter.Line(LocalApiAnswerKind.Error, problem!), cancellationToken).ConfigureAwait(false);
            return;
        }

        var name = peer is null ? address.ToString() : PeerName(peer);
        for (var attempt = 0; attempt < count; attempt++)
        {
            var started = timeProvider.GetTimestamp();
            byte[] line;
            try
            {
                var rtt = await node.PingAsync(address, PingTimeout, cancellationToken).ConfigureAwait(false);
                var path = CurrentPath(peer?.PublicKey) ?? "unknown";
                line = LocalApiAnswerWriter.Line(LocalApiAnswerKind.Pong, new PingReply(name, address.ToString(), path, rtt.TotalMilliseconds), LocalApiJsonContext.Default.PingReply);
            }
            catch (TimeoutException e)
            {
                line = LocalApiAnswerWriter.Line(LocalApiAnswerKind.NoReply, e.Message);
            }
            catch (Exception e) when (e is SocketException or ArgumentException)
            {
                // No route or an expired peer: every further attempt fails the same way.
                await writeLine(LocalApiAnswerWriter.Line(LocalApiAnswerKind.Error, e.Message), cancellationToken).ConfigureAwait(false);
                return;
            }

            await writeLine(line, cancellationToken).ConfigureAwait(false);
            var wait = PingInterval - timeProvider.GetElapsedTime(started);
            if (attempt + 1 < count && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The path to the peer with <paramref name="key"/> now, from a fresh status; null when not known.</summary>
    private string? CurrentPath(WireGuardKey? key) =>
        key is { } k ? node.GetStatus().Peers.FirstOrDefault(p => p.PublicKey == k)?.Path : null;

    /// <summary>
    /// The address to ping for <paramref name="target"/> (an IP address, a peer's name, DNS name or its first label,
    /// case-insensitive) and the peer that owns it; or the reason there is none.
    /// </summary>
    internal static (IPAddress? Address, TailnetPeerStatus? Peer, string? Problem) ResolvePingTarget(TailnetStatus status, string target)
    {
        if (IPAddress.TryParse(target, out var address))
        {
            return (address, status.Peers.FirstOrDefault(p => p.Addresses.Contains(address)), null);
        }

        var name = target.TrimEnd('.');
        var peer = status.Peers.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? status.Peers.FirstOrDefault(p => p.DnsName is { } dns && (string.Equals(dns, name, StringComparison.OrdinalIgnoreCase) || string.Equals(FirstLabel(dns), name, StringComparison.OrdinalIgnoreCase)));
        if (peer is null)
        {
            var known = new List<string>();
            for (int i = 0; i < status.Peers.Count && known.Count < 8; i++)
            {
                known.Add(PeerName(status.Peers[i]));
            }

            return (null, null, $"'{Shorten(target)}' is neither an IP address nor the name of a peer ({(known.Count == 0 ? "the node has no peers" : "peers: " + string.Join(", ", known))})");
        }

        return peer.Addresses.Count > 0
            ? (peer.Addresses[0], peer, null)
            : (null, peer, $"peer '{PeerName(peer)}' has no address of its own to ping; ping an address in its AllowedIPs");
    }

    /// <summary>How a peer is named in answers: its name, else the first label of its DNS name, else its key's start.</summary>
    internal static string PeerName(TailnetPeerStatus peer) =>
        peer.Name ?? (peer.DnsName is { } dns ? FirstLabel(dns) : peer.PublicKey.ToString()[..8] + "...");

    private static string FirstLabel(string dnsName) => dnsName.Split('.')[0];

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
