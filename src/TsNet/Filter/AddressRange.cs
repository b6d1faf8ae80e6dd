namespace TsNet.Filter;

/// <summary>
/// An inclusive range of addresses of one family as big-endian numbers (IPv4 in the low 32 bits); a CIDR prefix,
/// a single address and an <c>a-b</c> range all become one.
/// </summary>
internal readonly record struct AddressRange(UInt128 First, UInt128 Last)
{
    public bool Contains(UInt128 address) => address >= First && address <= Last;

    /// <summary>
    /// Sorts and merges overlapping or adjacent ranges, so a lookup is a binary search for the last range starting at
    /// or below the address.
    /// </summary>
    public static AddressRange[] Normalize(List<AddressRange> ranges)
    {
        if (ranges.Count == 0)
        {
            return [];
        }

        ranges.Sort(static (x, y) => x.First.CompareTo(y.First));
        var merged = new List<AddressRange>(ranges.Count) { ranges[0] };
        for (var i = 1; i < ranges.Count; i++)
        {
            var last = merged[^1];
            var next = ranges[i];
            if (last.Last == UInt128.MaxValue || next.First <= last.Last + 1)
            {
                merged[^1] = last with { Last = UInt128.Max(last.Last, next.Last) };
            }
            else
            {
                merged.Add(next);
            }
        }

        return [.. merged];
    }

    /// <summary>Whether <paramref name="address"/> is in one of <paramref name="sorted"/> (from <see cref="Normalize"/>).</summary>
    public static bool AnyContains(AddressRange[] sorted, UInt128 address)
    {
        var low = 0;
        var high = sorted.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var range = sorted[mid];
            if (address < range.First)
            {
                high = mid - 1;
            }
            else if (address > range.Last)
            {
                low = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }
}
