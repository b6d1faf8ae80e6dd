using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TsNet.Registry;

/// <summary>
/// Longest-prefix match over IPv4 and IPv6 prefixes: a path-compressed binary trie per family, built once and then
/// only read (any number of threads may look up concurrently). A lookup walks at most one node per distinct prefix
/// length on the path and allocates nothing.
/// </summary>
/// <typeparam name="T">What a prefix maps to (a registry peer).</typeparam>
internal sealed class PrefixTrie<T>
    where T : class
{
    /// <summary>
    /// Most prefixes one trie holds: a netmap of 10 000 peers with a few addresses and routes each stays far below,
    /// and at about two nodes per prefix the trie stays within a few tens of MB even when full.
    /// </summary>
    public const int MaxPrefixes = 262_144;

    private readonly Node? _ipv4;
    private readonly Node? _ipv6;

    private PrefixTrie(Node? ipv4, Node? ipv6, int count)
    {
        _ipv4 = ipv4;
        _ipv6 = ipv6;
        Count = count;
    }

    /// <summary>An empty trie.</summary>
    public static PrefixTrie<T> Empty { get; } = new(null, null, 0);

    /// <summary>Prefixes inserted (a prefix inserted twice counts once).</summary>
    public int Count { get; }

    /// <summary>
    /// Builds a trie from <paramref name="entries"/>; when the same prefix appears more than once, the last entry
    /// wins (as WireGuard moves an allowed IP to the peer configured last).
    /// </summary>
    /// <exception cref="InvalidOperationException">More than <see cref="MaxPrefixes"/> prefixes.</exception>
    public static PrefixTrie<T> Build(IEnumerable<(IPNetwork Prefix, T Value)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Node? ipv4 = null;
        Node? ipv6 = null;
        var count = 0;
        foreach (var (prefix, value) in entries)
        {
            ArgumentNullException.ThrowIfNull(value, nameof(entries));
            var key = ToKey(prefix.BaseAddress, out var isIpv6);
            var length = prefix.PrefixLength;
            var inserted = isIpv6 ? Insert(ref ipv6, key & Mask(length), length, value) : Insert(ref ipv4, key & Mask(length), length, value);
            if (inserted && ++count > MaxPrefixes)
            {
                throw new InvalidOperationException($"At most {MaxPrefixes} AllowedIPs prefixes in total.");
            }
        }

        return new PrefixTrie<T>(ipv4, ipv6, count);
    }

    /// <summary>The value of the longest prefix that contains <paramref name="address"/>, or null.</summary>
    public T? Lookup(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var key = ToKey(address, out var isIpv6);
        var node = isIpv6 ? _ipv6 : _ipv4;
        T? best = null;
        while (node is not null && ((key ^ node.Prefix) & Mask(node.Length)) == UInt128.Zero)
        {
            best = node.Value ?? best;
            if (node.Length == 128)
            {
                break;
            }

            node = Bit(key, node.Length) ? node.One : node.Zero;
        }

        return best;
    }

    /// <summary>Inserts into the subtree at <paramref name="slot"/>; true when the prefix was new.</summary>
    private static bool Insert(ref Node? slot, UInt128 key, int length, T value)
    {
        while (true)
        {
            if (slot is not { } node)
            {
                slot = new Node(key, length, value);
                return true;
            }

            var common = CommonLength(node.Prefix, node.Length, key, length);
            if (common == node.Length && common == length)
            {
                var added = node.Value is null;
                node.Value = value;
                return added;
            }

            if (common == node.Length)
            {
                // The new prefix lies below this node: descend on its next bit.
                if (Bit(key, node.Length))
                {
                    slot = ref node.One;
                }
                else
                {
                    slot = ref node.Zero;
                }

                continue;
            }

            // The paths diverge (or the new prefix is a proper prefix of this node): a node at the common length
            // takes this node and, unless it is the new prefix itself, a new leaf as children.
            var split = new Node(key & Mask(common), common, common == length ? value : null);
            Attach(split, node);
            if (common != length)
            {
                Attach(split, new Node(key, length, value));
            }

            slot = split;
            return true;
        }
    }

    private static void Attach(Node parent, Node child)
    {
        if (Bit(child.Prefix, parent.Length))
        {
            parent.One = child;
        }
        else
        {
            parent.Zero = child;
        }
    }

    private static int CommonLength(UInt128 a, int aLength, UInt128 b, int bLength)
    {
        var differing = (int)UInt128.LeadingZeroCount(a ^ b);
        return Math.Min(differing, Math.Min(aLength, bLength));
    }

    private static bool Bit(UInt128 key, int index) => ((key >> (127 - index)) & UInt128.One) != UInt128.Zero;

    private static UInt128 Mask(int length) => length == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - length);

    /// <summary>The address as a left-aligned 128-bit number (IPv4 in the top 32 bits), without allocating.</summary>
    private static UInt128 ToKey(IPAddress address, out bool isIpv6)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        isIpv6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        return isIpv6
            ? BinaryPrimitives.ReadUInt128BigEndian(bytes)
            : (UInt128)BinaryPrimitives.ReadUInt32BigEndian(bytes[..written]) << 96;
    }

    private sealed class Node(UInt128 prefix, int length, T? value)
    {
        public UInt128 Prefix { get; } = prefix;

        public int Length { get; } = length;

        public T? Value { get; set; } = value;

        public Node? Zero;

        public Node? One;
    }
}
