using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TsNet.Registry;

/// <summary>
/// Longest-prefix match over IPv4 and IPv6 prefixes: a path-compressed binary trie per family, never changed once
/// made (any number of threads may look up concurrently); a change is a new trie from <see cref="ToBuilder"/> that
/// shares every subtree it does not touch. A lookup walks at most one node per distinct prefix length on the path and
/// allocates nothing.
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
        var builder = new Builder();
        foreach (var (prefix, value) in entries)
        {
            ArgumentNullException.ThrowIfNull(value, nameof(entries));
            builder.Add(prefix, value);
        }

        return builder.ToTrie();
    }

    /// <summary>
    /// A builder that starts from this trie and leaves it unchanged: the nodes on the paths it changes are copied,
    /// every other subtree is shared with this trie (a change of a few prefixes costs a few paths, not a rebuild).
    /// </summary>
    public Builder ToBuilder() => new(_ipv4, _ipv6, Count);

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

    /// <summary>
    /// Adds and removes prefixes, then makes a trie (<see cref="ToTrie"/>). A new builder mutates nodes it made
    /// itself; one from <see cref="ToBuilder"/> copies a shared node before its first change.
    /// </summary>
    public sealed class Builder
    {
        // Nodes this builder made (or copied) and may therefore change in place; null: every node is its own.
        private readonly HashSet<Node>? _owned;
        private Node? _ipv4;
        private Node? _ipv6;

        /// <summary>An empty builder.</summary>
        public Builder()
        {
        }

        internal Builder(Node? ipv4, Node? ipv6, int count)
        {
            _ipv4 = ipv4;
            _ipv6 = ipv6;
            Count = count;
            _owned = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        }

        /// <summary>Prefixes held.</summary>
        public int Count { get; private set; }

        /// <summary>
        /// Maps <paramref name="prefix"/> to <paramref name="value"/>, replacing the value it had (the last entry wins);
        /// true when the prefix was new.
        /// </summary>
        /// <exception cref="InvalidOperationException">More than <see cref="MaxPrefixes"/> prefixes.</exception>
        public bool Add(IPNetwork prefix, T value)
        {
            ArgumentNullException.ThrowIfNull(value);
            var key = ToKey(prefix.BaseAddress, out var isIpv6);
            var length = prefix.PrefixLength;
            var added = isIpv6 ? Insert(ref _ipv6, key & Mask(length), length, value) : Insert(ref _ipv4, key & Mask(length), length, value);
            if (added && ++Count > MaxPrefixes)
            {
                throw new InvalidOperationException($"At most {MaxPrefixes} AllowedIPs prefixes in total.");
            }

            return added;
        }

        /// <summary>Removes <paramref name="prefix"/> if it maps to <paramref name="expected"/> (the same instance); true when removed.</summary>
        public bool Remove(IPNetwork prefix, T expected)
        {
            var key = ToKey(prefix.BaseAddress, out var isIpv6);
            var length = prefix.PrefixLength;
            var removed = false;
            if (isIpv6)
            {
                _ipv6 = Remove(_ipv6, key & Mask(length), length, expected, ref removed);
            }
            else
            {
                _ipv4 = Remove(_ipv4, key & Mask(length), length, expected, ref removed);
            }

            if (removed)
            {
                Count--;
            }

            return removed;
        }

        /// <summary>The trie as built so far (the builder must not be used afterwards).</summary>
        public PrefixTrie<T> ToTrie() => new(_ipv4, _ipv6, Count);

        private Node Own(Node node)
        {
            if (_owned is null || _owned.Contains(node))
            {
                return node;
            }

            var copy = new Node(node.Prefix, node.Length, node.Value) { Zero = node.Zero, One = node.One };
            _owned.Add(copy);
            return copy;
        }

        private Node Make(UInt128 prefix, int length, T? value)
        {
            var node = new Node(prefix, length, value);
            _owned?.Add(node);
            return node;
        }

        /// <summary>Inserts into the subtree at <paramref name="slot"/> (a slot of a node this builder owns); true when the prefix was new.</summary>
        private bool Insert(ref Node? slot, UInt128 key, int length, T value)
        {
            while (true)
            {
                if (slot is not { } node)
                {
                    slot = Make(key, length, value);
                    return true;
                }

                var common = CommonLength(node.Prefix, node.Length, key, length);
                if (common == node.Length && common == length)
                {
                    var owned = Own(node);
                    var added = owned.Value is null;
                    owned.Value = value;
                    slot = owned;
                    return added;
                }

                if (common == node.Length)
                {
                    // The new prefix lies below this node: descend on its next bit (into a node this builder owns).
                    var owned = Own(node);
                    slot = owned;
                    if (Bit(key, owned.Length))
                    {
                        slot = ref owned.One;
                    }
                    else
                    {
                        slot = ref owned.Zero;
                    }

                    continue;
                }

                // The paths diverge (or the new prefix is a proper prefix of this node): a node at the common length
                // takes this node (unchanged, so shared) and, unless it is the new prefix itself, a new leaf as children.
                var split = Make(key & Mask(common), common, common == length ? value : null);
                Attach(split, node);
                if (common != length)
                {
                    Attach(split, Make(key, length, value));
                }

                slot = split;
                return true;
            }
        }

        /// <summary>
        /// The subtree <paramref name="node"/> without the prefix (the same node when it is absent or maps to another
        /// value). A node left without value keeps only when it still joins two subtrees, as a fresh build makes them.
        /// </summary>
        private Node? Remove(Node? node, UInt128 key, int length, T expected, ref bool removed)
        {
            if (node is null || CommonLength(node.Prefix, node.Length, key, length) < node.Length)
            {
                return node;
            }

            if (node.Length == length)
            {
                if (!ReferenceEquals(node.Value, expected))
                {
                    return node;
                }

                removed = true;
                return WithoutValue(node);
            }

            var one = Bit(key, node.Length);
            var child = one ? node.One : node.Zero;
            var changed = Remove(child, key, length, expected, ref removed);
            if (ReferenceEquals(changed, child))
            {
                return node;
            }

            if (node.Value is null && changed is null)
            {
                // A joining node that lost one side: its other side takes its place.
                return one ? node.Zero : node.One;
            }

            var owned = Own(node);
            if (one)
            {
                owned.One = changed;
            }
            else
            {
                owned.Zero = changed;
            }

            return owned;
        }

        private Node? WithoutValue(Node node)
        {
            if (node.Zero is null || node.One is null)
            {
                return node.Zero ?? node.One;
            }

            var owned = Own(node);
            owned.Value = null;
            return owned;
        }
    }

    internal sealed class Node(UInt128 prefix, int length, T? value)
    {
        public UInt128 Prefix { get; } = prefix;

        public int Length { get; } = length;

        public T? Value { get; set; } = value;

        public Node? Zero;

        public Node? One;
    }
}
