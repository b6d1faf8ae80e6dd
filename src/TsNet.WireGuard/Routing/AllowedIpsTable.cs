using System.Net;

namespace TsNet.WireGuard.Routing;

// Placeholder (linear scan) until the trie lands from the netstack branch.
internal sealed class AllowedIpsTable<T> where T : class
{
    private readonly List<(byte[] Prefix, int Bits, T Value)> _entries = new();

    public int Count => _entries.Count;

    public void Insert(IPAddress address, int prefixLength, T value)
    {
        var bytes = Mask(address.GetAddressBytes(), prefixLength);
        Remove(address, prefixLength);
        _entries.Add((bytes, prefixLength, value));
    }

    public bool Remove(IPAddress address, int prefixLength)
    {
        var bytes = Mask(address.GetAddressBytes(), prefixLength);
        return _entries.RemoveAll(e => e.Bits == prefixLength && e.Prefix.AsSpan().SequenceEqual(bytes)) > 0;
    }

    public void RemoveAll(T value) => _entries.RemoveAll(e => ReferenceEquals(e.Value, value));

    public T? Lookup(IPAddress address) => Lookup(address.GetAddressBytes());

    public T? Lookup(ReadOnlySpan<byte> address)
    {
        T? best = null;
        var bestBits = -1;
        foreach (var (prefix, bits, value) in _entries)
        {
            if (prefix.Length == address.Length && bits > bestBits && Matches(prefix, bits, address))
            {
                best = value;
                bestBits = bits;
            }
        }

        return best;
    }

    public IEnumerable<(IPAddress, int)> PrefixesOf(T value)
    {
        foreach (var (prefix, bits, v) in _entries)
        {
            if (ReferenceEquals(v, value))
            {
                yield return (new IPAddress(prefix), bits);
            }
        }
    }

    private static bool Matches(byte[] prefix, int bits, ReadOnlySpan<byte> address)
    {
        var full = bits / 8;
        if (!prefix.AsSpan(0, full).SequenceEqual(address[..full]))
        {
            return false;
        }

        var rest = bits % 8;
        if (rest == 0)
        {
            return true;
        }

        var mask = (byte)(0xFF << (8 - rest));
        return (prefix[full] & mask) == (address[full] & mask);
    }

    private static byte[] Mask(byte[] bytes, int bits)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var remaining = bits - (i * 8);
            bytes[i] &= remaining >= 8 ? (byte)0xFF : remaining <= 0 ? (byte)0 : (byte)(0xFF << (8 - remaining));
        }

        return bytes;
    }
}
