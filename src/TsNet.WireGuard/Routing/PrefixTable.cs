using System.Numerics;

namespace TsNet.WireGuard.Routing;

/// <summary>
/// Longest-prefix match for one address family: one hash table per prefix length, holding the masked prefix as key.
/// A lookup probes only the lengths that are in use, longest first, so its cost is the number of distinct prefix
/// lengths (in a typical tailnet one or two: every peer's /32 and /128, perhaps a subnet route), and it allocates
/// nothing. Addresses are big-endian numbers (<typeparamref name="TKey"/> = <see cref="uint"/> or <see cref="UInt128"/>).
/// </summary>
/// <remarks>Not thread-safe: concurrent lookups are fine only while nobody mutates.</remarks>
internal sealed class PrefixTable<TKey, TValue>
    where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    where TValue : class
{
    private readonly Dictionary<TKey, TValue>?[] _byLength;
    private readonly TKey[] _masks;

    /// <summary>Prefix lengths that have at least one entry, longest first.</summary>
    private int[] _lengthsInUse = [];

    public PrefixTable(int addressBits)
    {
        AddressBits = addressBits;
        _byLength = new Dictionary<TKey, TValue>?[addressBits + 1];
        _masks = new TKey[addressBits + 1];
        for (int length = 1; length <= addressBits; length++)
        {
            // Length 0 keeps the zero mask: shifting by the full width would wrap around to a shift of 0.
            _masks[length] = TKey.AllBitsSet << (addressBits - length);
        }
    }

    /// <summary>Width of an address in bits (32 or 128).</summary>
    public int AddressBits { get; }

    /// <summary>Number of prefixes stored.</summary>
    public int Count { get; private set; }

    /// <summary>Clears the host bits of <paramref name="address"/> beyond <paramref name="prefixLength"/>.</summary>
    public TKey Mask(TKey address, int prefixLength) => address & _masks[prefixLength];

    /// <summary>Adds the prefix or replaces the value of an identical one (host bits are masked off first).</summary>
    public void Insert(TKey address, int prefixLength, TValue value)
    {
        var table = _byLength[prefixLength];
        if (table is null)
        {
            table = new Dictionary<TKey, TValue>();
            _byLength[prefixLength] = table;
        }

        int before = table.Count;
        table[Mask(address, prefixLength)] = value;
        if (table.Count != before)
        {
            Count++;
            if (before == 0)
            {
                RebuildLengthsInUse();
            }
        }
    }

    /// <summary>Removes exactly this prefix; false when it was not present.</summary>
    public bool Remove(TKey address, int prefixLength)
    {
        var table = _byLength[prefixLength];
        if (table is null || !table.Remove(Mask(address, prefixLength)))
        {
            return false;
        }

        Count--;
        if (table.Count == 0)
        {
            RebuildLengthsInUse();
        }

        return true;
    }

    /// <summary>Removes every prefix mapped to <paramref name="value"/> (compared by reference).</summary>
    public void RemoveAll(TValue value)
    {
        bool emptied = false;
        foreach (int length in _lengthsInUse)
        {
            var table = _byLength[length]!;

            // Removing while enumerating a Dictionary is allowed (it does not invalidate the enumerator).
            foreach (var (key, stored) in table)
            {
                if (ReferenceEquals(stored, value))
                {
                    table.Remove(key);
                    Count--;
                }
            }

            emptied |= table.Count == 0;
        }

        if (emptied)
        {
            RebuildLengthsInUse();
        }
    }

    /// <summary>The value of the longest prefix containing <paramref name="address"/>, or null.</summary>
    public TValue? Lookup(TKey address)
    {
        foreach (int length in _lengthsInUse)
        {
            if (_byLength[length]!.TryGetValue(address & _masks[length], out var value))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>Appends every prefix mapped to <paramref name="value"/>, longest first.</summary>
    public void CollectPrefixesOf(TValue value, List<(TKey Address, int PrefixLength)> into)
    {
        foreach (int length in _lengthsInUse)
        {
            foreach (var (key, stored) in _byLength[length]!)
            {
                if (ReferenceEquals(stored, value))
                {
                    into.Add((key, length));
                }
            }
        }
    }

    private void RebuildLengthsInUse()
    {
        var lengths = new List<int>(_byLength.Length);
        for (int length = AddressBits; length >= 0; length--)
        {
            if (_byLength[length] is { Count: > 0 })
            {
                lengths.Add(length);
            }
        }

        _lengthsInUse = [.. lengths];
    }
}
