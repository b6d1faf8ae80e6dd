namespace TsNet.Netstack;

/// <summary>
/// Path MTUs learned from ICMP "fragmentation needed" / "packet too big" (RFC 1191, RFC 8201), per destination
/// address. Bounded: when full, expired entries go first, then the one that expires soonest. An entry lives
/// <c>expiry</c> ticks after it was last lowered or confirmed; then the link MTU is used again (the RFCs' way of
/// noticing that a path grew). Values only ever go down while an entry lives, and never below the protocol minimum.
/// </summary>
internal sealed class PathMtuTable
{
    /// <summary>Smallest path MTU accepted over IPv4: RFC 791's 576-byte datagram every host must accept (Linux's
    /// <c>min_pmtu</c> default is 552; 576 is the conservative choice for a tunnel).</summary>
    public const int MinimumIpv4Mtu = 576;

    /// <summary>Smallest path MTU over IPv6 (RFC 8200 §5): a smaller "packet too big" is raised to this.</summary>
    public const int MinimumIpv6Mtu = 1280;

    private readonly Dictionary<(UInt128 Address, bool IsIpv6), Entry> _entries;
    private readonly int _capacity;
    private readonly long _expiryTicks;

    public PathMtuTable(int capacity, long expiryTicks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(expiryTicks, 1);
        _capacity = capacity;
        _expiryTicks = expiryTicks;
        _entries = new Dictionary<(UInt128, bool), Entry>(Math.Min(capacity, 64));
    }

    /// <summary>Entries held, live or expired.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Records that packets to <paramref name="address"/> larger than <paramref name="reportedMtu"/> do not get
    /// through. The value is raised to the protocol minimum; one at or above <paramref name="linkMtu"/> (or above a
    /// live entry) teaches nothing and is ignored, except that an equal report keeps a live entry alive.
    /// </summary>
    /// <returns>True when an entry was added, lowered or refreshed.</returns>
    public bool Record(UInt128 address, bool isIpv6, int reportedMtu, int linkMtu, long now)
    {
        int mtu = Math.Max(reportedMtu, isIpv6 ? MinimumIpv6Mtu : MinimumIpv4Mtu);
        var key = (address, isIpv6);
        int current = Lookup(key, linkMtu, now);
        if (mtu > current || (mtu == linkMtu && current == linkMtu))
        {
            return false;
        }

        if (!_entries.ContainsKey(key) && _entries.Count >= _capacity)
        {
            Evict(now);
        }

        _entries[key] = new Entry(mtu, now + _expiryTicks);
        return true;
    }

    /// <summary>The MTU to use towards <paramref name="address"/>: a live entry's value, else <paramref name="linkMtu"/>.</summary>
    public int Get(UInt128 address, bool isIpv6, int linkMtu, long now) => Lookup((address, isIpv6), linkMtu, now);

    public void Clear() => _entries.Clear();

    private int Lookup((UInt128, bool) key, int linkMtu, long now)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return linkMtu;
        }

        if (entry.ExpiresAt <= now)
        {
            _entries.Remove(key);
            return linkMtu;
        }

        return Math.Min(entry.Mtu, linkMtu);
    }

    /// <summary>Frees at least one slot: every expired entry, or failing that the one that expires soonest.</summary>
    private void Evict(long now)
    {
        (UInt128, bool)? soonest = null;
        long soonestAt = long.MaxValue;
        foreach (var (key, entry) in _entries)
        {
            if (entry.ExpiresAt <= now)
            {
                _entries.Remove(key); // removing during enumeration is allowed for Dictionary since .NET Core 3.0
            }
            else if (entry.ExpiresAt < soonestAt)
            {
                soonestAt = entry.ExpiresAt;
                soonest = key;
            }
        }

        if (_entries.Count >= _capacity && soonest is { } victim)
        {
            _entries.Remove(victim);
        }
    }

    private readonly record struct Entry(int Mtu, long ExpiresAt);
}
