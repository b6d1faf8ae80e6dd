using System.Net;

namespace TsNet;

/// <summary>
/// Copies and projections of <see cref="IPNetwork"/> lists, as plain loops. LINQ over this value type (<c>Select</c>,
/// <c>ToArray</c>, <c>Contains</c>, or a collection expression spreading a list) is native code of its own per
/// operator for <see cref="IPNetwork"/>; these loops replace all of it in the native tool (README, native section).
/// </summary>
internal static class IPNetworkLists
{
    /// <summary>A copy of <paramref name="networks"/>, in order.</summary>
    public static IPNetwork[] ToArray(IEnumerable<IPNetwork> networks)
    {
        if (networks is ICollection<IPNetwork> collection)
        {
            var copy = new IPNetwork[collection.Count];
            collection.CopyTo(copy, 0);
            return copy;
        }

        var list = new List<IPNetwork>();
        foreach (var network in networks)
        {
            list.Add(network);
        }

        return list.ToArray();
    }

    /// <summary>Each network's base address, in order.</summary>
    public static IPAddress[] BaseAddresses(IEnumerable<IPNetwork> networks)
    {
        var copy = ToArray(networks);
        var addresses = new IPAddress[copy.Length];
        for (int i = 0; i < addresses.Length; i++)
        {
            addresses[i] = copy[i].BaseAddress;
        }

        return addresses;
    }

    /// <summary>Each network as base address and prefix length, in order.</summary>
    public static (IPAddress Address, int PrefixLength)[] Prefixes(IReadOnlyList<IPNetwork> networks)
    {
        var prefixes = new (IPAddress Address, int PrefixLength)[networks.Count];
        for (int i = 0; i < prefixes.Length; i++)
        {
            prefixes[i] = (networks[i].BaseAddress, networks[i].PrefixLength);
        }

        return prefixes;
    }

    /// <summary>Whether <paramref name="networks"/> holds <paramref name="network"/>.</summary>
    public static bool Contains(IReadOnlyList<IPNetwork> networks, IPNetwork network)
    {
        for (int i = 0; i < networks.Count; i++)
        {
            if (networks[i].Equals(network))
            {
                return true;
            }
        }

        return false;
    }
}
