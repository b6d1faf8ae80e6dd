using System.Buffers.Binary;

namespace TsNet.Benchmarks.Soak;

/// <summary>
/// The bytes of one soak stream, a pure function of its seed and offset: generated in 64 KiB blocks (SplitMix64 per
/// 8 bytes), so a writer produces them and a verifier regenerates them at any offset without storing anything.
/// </summary>
internal sealed class StreamPayload
{
    /// <summary>Bytes per generated block.</summary>
    public const int BlockBytes = 64 * 1024;

    private readonly ulong _seed;
    private readonly byte[] _block;
    private long _blockIndex = -1;

    /// <param name="seed">The stream's seed.</param>
    /// <param name="block">A scratch buffer of at least <see cref="BlockBytes"/> (rented by the caller).</param>
    public StreamPayload(ulong seed, byte[] block)
    {
        _seed = seed;
        _block = block;
    }

    /// <summary>
    /// The payload bytes from <paramref name="offset"/>, up to the end of that block and at most
    /// <paramref name="count"/> (a caller loops for longer ranges).
    /// </summary>
    public ReadOnlyMemory<byte> At(long offset, int count)
    {
        var index = offset / BlockBytes;
        if (index != _blockIndex)
        {
            Fill(index);
        }

        var within = (int)(offset % BlockBytes);
        return _block.AsMemory(within, Math.Min(count, BlockBytes - within));
    }

    /// <summary>
    /// Compares <paramref name="received"/> with the payload at <paramref name="offset"/>; returns the index of the
    /// first differing byte, or -1 when all match.
    /// </summary>
    public int Mismatch(long offset, ReadOnlySpan<byte> received)
    {
        var checkedBytes = 0;
        while (checkedBytes < received.Length)
        {
            var expected = At(offset + checkedBytes, received.Length - checkedBytes).Span;
            var part = received.Slice(checkedBytes, expected.Length);
            var differs = part.CommonPrefixLength(expected);
            if (differs != expected.Length)
            {
                return checkedBytes + differs;
            }

            checkedBytes += expected.Length;
        }

        return -1;
    }

    private void Fill(long index)
    {
        var state = _seed ^ ((ulong)index * 0x9E3779B97F4A7C15UL);
        for (var i = 0; i < BlockBytes; i += 8)
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            BinaryPrimitives.WriteUInt64LittleEndian(_block.AsSpan(i), z ^ (z >> 31));
        }

        _blockIndex = index;
    }
}
