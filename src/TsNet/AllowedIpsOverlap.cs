using System.Net;
using Microsoft.Extensions.Logging;
using TsNet.Registry;

namespace TsNet;

/// <summary>
/// Warns when two peers list the same AllowedIPs prefix. WireGuard routes a prefix to one peer only, so the other
/// silently gets none of its traffic: almost always a copy-paste mistake in a configuration. A narrower prefix inside
/// another peer's wider one is routing by longest prefix (a subnet behind a peer) and is not warned about.
/// </summary>
internal static partial class AllowedIpsOverlap
{
    /// <summary>Configuration time: every pair of peers that share a prefix, once per prefix and pair.</summary>
    public static void WarnAll(IEnumerable<TailnetPeer> peers, ILogger logger)
    {
        var owners = new Dictionary<IPNetwork, TailnetPeer>();
        foreach (var peer in peers)
        {
            foreach (var prefix in peer.AllowedIps)
            {
                if (!owners.TryAdd(prefix, peer) && owners[prefix].PublicKey != peer.PublicKey)
                {
                    LogOverlap(logger, prefix.ToString(), Describe(owners[prefix].Name, owners[prefix].PublicKey), Describe(peer.Name, peer.PublicKey));
                }
            }
        }
    }

    /// <summary>A peer added or updated at run time against the peers already known.</summary>
    public static void WarnAgainst(RegistryPeer added, IReadOnlyList<RegistryPeer> others, ILogger logger)
    {
        foreach (var other in others)
        {
            if (other.NodeKey == added.NodeKey)
            {
                continue;
            }

            foreach (var prefix in added.AllowedIps)
            {
                if (IPNetworkLists.Contains(other.AllowedIps, prefix))
                {
                    LogOverlap(logger, prefix.ToString(), Describe(other.Name, other.NodeKey), Describe(added.Name, added.NodeKey));
                }
            }
        }
    }

    private static string Describe(string? name, WireGuardKey key) => name is null ? key.ToString() : $"'{name}' ({key})";

    [LoggerMessage(EventId = 1190, Level = LogLevel.Warning, Message = "Peers {First} and {Second} both list AllowedIPs {Prefix}: only one of them receives its traffic; give each peer its own addresses")]
    private static partial void LogOverlap(ILogger logger, string prefix, string first, string second);
}
