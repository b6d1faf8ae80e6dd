namespace TsNet.Netstack.Tcp;

/// <summary>One SACK block (RFC 2018 §3): received bytes <c>[Left, Right)</c> above the cumulative ACK.</summary>
/// <param name="Left">First sequence number of the block.</param>
/// <param name="Right">Sequence number just after the block.</param>
internal readonly record struct SackBlock(SeqNum Left, SeqNum Right)
{
    /// <summary>Bytes covered (the blocks we accept are far below 2^31).</summary>
    public int Length => Right - Left;
}

/// <summary>
/// The SACK blocks of one segment: at most <see cref="MaxCount"/> (4 fit in 40 bytes of option space without
/// timestamps, 3 with them). An inline value without allocation; unused slots stay default so equality works.
/// </summary>
internal readonly record struct SackBlocks
{
    /// <summary>Most blocks an option can hold: (40 − 2) / 8.</summary>
    public const int MaxCount = 4;

    private readonly SackBlock _block0;
    private readonly SackBlock _block1;
    private readonly SackBlock _block2;
    private readonly SackBlock _block3;

    private SackBlocks(int count, SackBlock block0, SackBlock block1, SackBlock block2, SackBlock block3)
    {
        Count = count;
        _block0 = block0;
        _block1 = block1;
        _block2 = block2;
        _block3 = block3;
    }

    /// <summary>No blocks.</summary>
    public static SackBlocks Empty => default;

    /// <summary>Number of blocks (0–4).</summary>
    public int Count { get; }

    /// <summary>The block at <paramref name="index"/> (0 ≤ index &lt; <see cref="Count"/>).</summary>
    public SackBlock this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return index switch
            {
                0 => _block0,
                1 => _block1,
                2 => _block2,
                _ => _block3,
            };
        }
    }

    /// <summary>A list with <paramref name="block"/> appended; unchanged when already full.</summary>
    public SackBlocks Add(SackBlock block) => Count switch
    {
        0 => new SackBlocks(1, block, default, default, default),
        1 => new SackBlocks(2, _block0, block, default, default),
        2 => new SackBlocks(3, _block0, _block1, block, default),
        3 => new SackBlocks(4, _block0, _block1, _block2, block),
        _ => this,
    };

    /// <summary>The first <paramref name="count"/> blocks (used to fit the option space).</summary>
    public SackBlocks Take(int count)
    {
        var result = Empty;
        for (int i = 0; i < Math.Min(count, Count); i++)
        {
            result = result.Add(this[i]);
        }

        return result;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder("[");
        for (int i = 0; i < Count; i++)
        {
            text.Append(i == 0 ? string.Empty : ", ").Append(this[i].Left).Append('-').Append(this[i].Right);
        }

        return text.Append(']').ToString();
    }
}
