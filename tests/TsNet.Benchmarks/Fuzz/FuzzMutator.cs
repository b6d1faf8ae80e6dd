using System.Buffers.Binary;

namespace TsNet.Benchmarks.Fuzz;

/// <summary>
/// Builds input <c>index</c> of a run: mostly a valid corpus entry with one to a few structural mutations (bit flips,
/// interesting bytes, truncation, appended junk, length-field edits, splices with another entry, range overwrites,
/// deletions and duplications), sometimes a verbatim replay, sometimes plain random bytes. The bytes depend only on
/// (seed, index) and the corpus.
/// </summary>
internal static class FuzzMutator
{
    private static readonly byte[] s_interestingBytes = [0x00, 0x01, 0x02, 0x7F, 0x80, 0xFE, 0xFF, 0x10, 0x40];

    /// <summary>Input <paramref name="index"/> of a run seeded with <paramref name="seed"/> over <paramref name="corpus"/>.</summary>
    public static byte[] Generate(ulong seed, long index, IReadOnlyList<byte[]> corpus, int maxLength)
    {
        var random = FuzzRandom.ForInput(seed, index);
        if (corpus.Count == 0 || random.OneIn(16))
        {
            var garbage = new byte[random.Next(0, Math.Min(maxLength, random.OneIn(8) ? maxLength : 256) + 1)];
            random.NextBytes(garbage);
            return garbage;
        }

        var bytes = new List<byte>(corpus[random.Next(corpus.Count)]);
        if (!random.OneIn(32))
        {
            var steps = random.OneIn(4) ? random.Next(2, 6) : 1;
            for (var step = 0; step < steps; step++)
            {
                MutateOnce(bytes, corpus, random);
            }
        }

        if (bytes.Count > maxLength)
        {
            bytes.RemoveRange(maxLength, bytes.Count - maxLength);
        }

        return [.. bytes];
    }

    private static void MutateOnce(List<byte> bytes, IReadOnlyList<byte[]> corpus, FuzzRandom random)
    {
        switch (random.Next(10))
        {
            case 0 when bytes.Count > 0:
                for (var flips = random.Next(1, 5); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8));
                }

                return;
            case 1 when bytes.Count > 0:
                bytes[random.Next(bytes.Count)] = random.OneIn(3) ? random.NextByte() : s_interestingBytes[random.Next(s_interestingBytes.Length)];
                return;
            case 2 when bytes.Count > 0:
                // Truncation, biased to the end so the deep fields go missing as often as the header.
                var keep = random.OneIn(2) ? bytes.Count - random.Next(1, Math.Min(bytes.Count, 17) + 1) : random.Next(bytes.Count);
                bytes.RemoveRange(keep, bytes.Count - keep);
                return;
            case 3:
            {
                var extra = new byte[random.OneIn(4) ? random.Next(1, 1500) : random.Next(1, 65)];
                random.NextBytes(extra);
                bytes.AddRange(extra);
                return;
            }

            case 4 when bytes.Count >= 2:
                EditLengthField(bytes, random);
                return;
            case 5:
            {
                // Splice: this entry's head with another entry's tail.
                var other = corpus[random.Next(corpus.Count)];
                var cut = random.Next(bytes.Count + 1);
                var from = random.Next(other.Length + 1);
                bytes.RemoveRange(cut, bytes.Count - cut);
                bytes.AddRange(other.AsSpan(from).ToArray());
                return;
            }

            case 6 when bytes.Count > 0:
            {
                var start = random.Next(bytes.Count);
                var length = random.Next(1, Math.Min(32, bytes.Count - start) + 1);
                for (var i = 0; i < length; i++)
                {
                    bytes[start + i] = random.NextByte();
                }

                return;
            }

            case 7 when bytes.Count > 0:
            {
                var start = random.Next(bytes.Count);
                bytes.RemoveRange(start, random.Next(1, Math.Min(64, bytes.Count - start) + 1));
                return;
            }

            case 8 when bytes.Count > 0:
            {
                var start = random.Next(bytes.Count);
                var chunk = bytes.GetRange(start, random.Next(1, Math.Min(64, bytes.Count - start) + 1));
                bytes.InsertRange(random.Next(bytes.Count + 1), chunk);
                return;
            }

            default:
                if (bytes.Count > 0)
                {
                    bytes[random.Next(bytes.Count)] ^= 0xFF;
                }

                return;
        }
    }

    /// <summary>Overwrites a 1-, 2- or 4-byte field, either byte order, with a boundary value: length fields are where parsers trust the sender.</summary>
    private static void EditLengthField(List<byte> bytes, FuzzRandom random)
    {
        var width = random.Next(3) switch { 0 => 1, 1 => 2, _ => 4 };
        width = Math.Min(width, bytes.Count);
        var at = random.Next(bytes.Count - width + 1);
        long length = bytes.Count;
        ulong value = random.Next(10) switch
        {
            0 => 0,
            1 => 1,
            2 => (ulong)length,
            3 => (ulong)(length + 1),
            4 => (ulong)Math.Max(0, length - 1),
            5 => (ulong)Math.Max(0, length - at - width),
            6 => 0x7FFFFFFF,
            7 => ulong.MaxValue,
            8 => 0x8000,
            _ => random.NextUInt64(),
        };
        Span<byte> field = stackalloc byte[8];
        if (random.OneIn(2))
        {
            BinaryPrimitives.WriteUInt64BigEndian(field, value << ((8 - width) * 8));
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(field, value);
        }

        for (var i = 0; i < width; i++)
        {
            bytes[at + i] = field[i];
        }
    }
}
