using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// Deterministic pseudo-random test data: byte <c>i</c> of stream <c>seed</c> is a pure function of
/// <c>(seed, i)</c> (SplitMix64 of the 8-byte word index), so a producer and a checker agree without sharing a
/// file, any range can be generated on its own, and a mismatch can be located. Plus SHA-256 helpers.
/// </summary>
public static class TestData
{
    /// <summary>Chunk size used when streaming data in and out.</summary>
    public const int ChunkSize = 64 * 1024;

    /// <summary>Writes bytes <c>[offset, offset + destination.Length)</c> of stream <paramref name="seed"/>.</summary>
    public static void Fill(Span<byte> destination, long offset, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        Span<byte> word = stackalloc byte[8];
        var position = offset;
        var written = 0;
        while (written < destination.Length)
        {
            var skip = (int)(position & 7);
            var take = Math.Min(8 - skip, destination.Length - written);
            if (skip == 0 && take == 8)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(written, 8), Word(seed, position >> 3));
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(word, Word(seed, position >> 3));
                word.Slice(skip, take).CopyTo(destination.Slice(written));
            }

            written += take;
            position += take;
        }
    }

    /// <summary>The first <paramref name="length"/> bytes of stream <paramref name="seed"/> (for small payloads).</summary>
    public static byte[] Bytes(int length, ulong seed)
    {
        var bytes = new byte[length];
        Fill(bytes, 0, seed);
        return bytes;
    }

    /// <summary>Lowercase hex SHA-256 of the first <paramref name="length"/> bytes of stream <paramref name="seed"/>.</summary>
    public static string Sha256(long length, ulong seed)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            for (long offset = 0; offset < length;)
            {
                var take = (int)Math.Min(ChunkSize, length - offset);
                Fill(buffer.AsSpan(0, take), offset, seed);
                hash.AppendData(buffer, 0, take);
                offset += take;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Lowercase hex SHA-256 of <paramref name="data"/>.</summary>
    public static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Creates (or replaces) <paramref name="path"/> with <paramref name="length"/> bytes of stream <paramref name="seed"/>; returns its SHA-256.</summary>
    public static async Task<string> CreateFileAsync(string path, long length, ulong seed, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, ChunkSize, useAsync: true);
        return await WriteAsync(file, length, seed, cancellationToken);
    }

    /// <summary>Writes <paramref name="length"/> bytes of stream <paramref name="seed"/> to <paramref name="destination"/> in chunks; returns their SHA-256.</summary>
    public static async Task<string> WriteAsync(Stream destination, long length, ulong seed, CancellationToken cancellationToken = default, int chunkSize = ChunkSize)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
        try
        {
            for (long offset = 0; offset < length;)
            {
                var take = (int)Math.Min(chunkSize, length - offset);
                Fill(buffer.AsSpan(0, take), offset, seed);
                hash.AppendData(buffer, 0, take);
                await destination.WriteAsync(buffer.AsMemory(0, take), cancellationToken);
                offset += take;
            }

            await destination.FlushAsync(cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Reads <paramref name="source"/> to its end (or <paramref name="limit"/> bytes); returns the byte count and SHA-256.</summary>
    public static async Task<TransferDigest> DrainAsync(Stream source, CancellationToken cancellationToken = default, long limit = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        long total = 0;
        try
        {
            while (total < limit)
            {
                var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(ChunkSize, limit - total)), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                total += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return new TransferDigest(total, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>Byte count and SHA-256 of a file.</summary>
    public static async Task<TransferDigest> DigestFileAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, ChunkSize, useAsync: true);
        return await DrainAsync(file, cancellationToken);
    }

    /// <summary>
    /// Offset of the first byte of <paramref name="path"/> that differs from stream <paramref name="seed"/>, or -1 when
    /// the file is a prefix of the stream (for failure messages: where a transfer went wrong).
    /// </summary>
    public static async Task<long> FirstMismatchAsync(string path, ulong seed, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, ChunkSize, useAsync: true);
        var actual = new byte[ChunkSize];
        var expected = new byte[ChunkSize];
        long offset = 0;
        while (true)
        {
            var read = await file.ReadAtLeastAsync(actual, ChunkSize, throwOnEndOfStream: false, cancellationToken);
            if (read == 0)
            {
                return -1;
            }

            Fill(expected.AsSpan(0, read), offset, seed);
            var index = actual.AsSpan(0, read).CommonPrefixLength(expected.AsSpan(0, read));
            if (index < read)
            {
                return offset + index;
            }

            offset += read;
        }
    }

    private static ulong Word(ulong seed, long index)
    {
        // SplitMix64 (Steele, Lea, Flood 2014) evaluated at position index of the sequence started by seed.
        var z = seed + (unchecked((ulong)(index + 1)) * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>What a transfer carried: its length and lowercase hex SHA-256.</summary>
public readonly record struct TransferDigest(long Bytes, string Sha256)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Bytes} bytes, sha256 {Sha256}";
}
