using System.Globalization;
using System.Text;

namespace TsNet.Tool.Cli;

/// <summary>Formats <see cref="TailnetServer.GetStatus"/> snapshots as the tables <c>tsnet demo</c> prints.</summary>
internal static class StatusTable
{
    /// <summary>One row per node: name, addresses, UDP port, public key.</summary>
    public static string Nodes(IEnumerable<(string Name, TailnetStatus Status)> nodes)
    {
        // Loops rather than LINQ over the (name, status) pairs, here and below: no enumerable code for the pair in the native tool.
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (name, status) in nodes)
        {
            rows.Add(
            [
                name,
                string.Join(", ", status.Addresses),
                status.ListenPort.ToString(CultureInfo.InvariantCulture),
                status.PublicKey.ToString(),
            ]);
        }

        return TextTable.Format(["node", "addresses", "udp port", "public key"], rows);
    }

    /// <summary>One row per (node, peer): endpoint, session, last handshake (relative to <paramref name="now"/>), rx/tx bytes.</summary>
    public static string Peers(IEnumerable<(string Name, TailnetStatus Status)> nodes, DateTimeOffset now)
    {
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (name, status) in nodes)
        {
            foreach (var p in status.Peers)
            {
                rows.Add(
                [
                    name,
                    p.Name ?? p.PublicKey.ToString()[..8] + "...",
                    p.Endpoint?.ToString() ?? "-",
                    p.SessionState,
                    p.LastHandshake is { } at ? Ago(now - at) : "never",
                    p.RxBytes.ToString(CultureInfo.InvariantCulture),
                    p.TxBytes.ToString(CultureInfo.InvariantCulture),
                ]);
            }
        }

        return TextTable.Format(["node", "peer", "endpoint", "session", "last handshake", "rx bytes", "tx bytes"], rows);
    }

    /// <summary>Drop counters per node, one line each (<c>node-a: reason=count ...</c>); empty when nothing was dropped.</summary>
    public static string Drops(IEnumerable<(string Name, TailnetStatus Status)> nodes)
    {
        var text = new StringBuilder();
        foreach (var (name, status) in nodes)
        {
            if (status.Drops.Count == 0)
            {
                continue;
            }

            var reasons = new string[status.Drops.Count];
            int count = 0;
            foreach (var reason in status.Drops.Keys)
            {
                reasons[count++] = reason;
            }

            Array.Sort(reasons, StringComparer.Ordinal);
            text.Append(name).Append(':');
            foreach (var reason in reasons)
            {
                text.Append(' ').Append(reason).Append('=').Append(status.Drops[reason].ToString(CultureInfo.InvariantCulture));
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>How long ago, as the tables print it: <c>3.2 s ago</c>; <c>just now</c> for a time ahead of the clock.</summary>
    internal static string Ago(TimeSpan elapsed) =>
        elapsed < TimeSpan.Zero ? "just now" : elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s ago";
}
