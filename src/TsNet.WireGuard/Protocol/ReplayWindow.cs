namespace TsNet.WireGuard.Protocol;

/// <summary>
/// Sliding-window replay filter for transport counters (RFC 6479 style, wireguard.md §7): a ring of 128 64-bit
/// words, of which 127 words (8128 counters) are the usable window behind the highest counter seen.
/// </summary>
internal sealed class ReplayWindow
{
    private const int BlockBitsLog = 6;
    private const int BlockBits = 1 << BlockBitsLog;
    private const int RingBlocks = 128;
    private const int BlockMask = RingBlocks - 1;
    private const int BitMask = BlockBits - 1;

    /// <summary>Counters further than this behind the newest are rejected.</summary>
    public const ulong WindowSize = (RingBlocks - 1) * BlockBits;

    private readonly ulong[] _ring = new ulong[RingBlocks];
    private ulong _last;

    /// <summary>Forgets everything (a new keypair starts fresh).</summary>
    public void Reset()
    {
        _last = 0;
        // The other blocks are cleared lazily as the window advances over them.
        _ring[0] = 0;
    }

    /// <summary>Accepts <paramref name="counter"/> once; rejects replays, too-old counters and counters ≥ <paramref name="limit"/>.</summary>
    public bool TryAccept(ulong counter, ulong limit)
    {
        if (counter >= limit)
        {
            return false;
        }

        var indexBlock = counter >> BlockBitsLog;
        if (counter > _last)
        {
            var current = _last >> BlockBitsLog;
            var diff = indexBlock - current;
            if (diff > RingBlocks)
            {
                diff = RingBlocks;
            }

            for (var i = current + 1; i <= current + diff; i++)
            {
                _ring[(int)(i & BlockMask)] = 0;
            }

            _last = counter;
        }
        else if (_last - counter > WindowSize)
        {
            return false;
        }

        var block = (int)(indexBlock & BlockMask);
        var bit = 1UL << (int)(counter & BitMask);
        var old = _ring[block];
        _ring[block] = old | bit;
        return (old & bit) == 0;
    }
}
