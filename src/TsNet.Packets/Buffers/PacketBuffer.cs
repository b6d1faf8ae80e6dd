using System.Diagnostics;

namespace TsNet.Packets.Buffers;

/// <summary>
/// A pooled byte buffer holding one packet, with headroom in front of it and tailroom behind it so that
/// headers (the WireGuard transport header, later Geneve) can be prepended and trailers (padding, the AEAD
/// tag) appended in place. A buffer has exactly one owner at a time; the owner returns it with <see cref="Return"/>.
/// </summary>
internal sealed class PacketBuffer
{
    private readonly PacketBufferPool? _pool;

    internal PacketBuffer(PacketBufferPool? pool, int capacity)
    {
        _pool = pool;
        Array = new byte[capacity];
    }

    /// <summary>The whole backing array (headroom, packet and tailroom).</summary>
    public byte[] Array { get; }

    /// <summary>Start of the packet inside <see cref="Array"/>.</summary>
    public int Offset { get; private set; }

    /// <summary>Length of the packet in bytes.</summary>
    public int Length { get; private set; }

    /// <summary>Bytes available in front of the packet.</summary>
    public int Headroom => Offset;

    /// <summary>Bytes available behind the packet.</summary>
    public int Tailroom => Array.Length - Offset - Length;

    /// <summary>The packet bytes.</summary>
    public Span<byte> Span => Array.AsSpan(Offset, Length);

    /// <summary>The packet bytes as memory.</summary>
    public Memory<byte> Memory => Array.AsMemory(Offset, Length);

    /// <summary>Places an empty packet at <paramref name="offset"/> (the headroom it will have).</summary>
    public void Reset(int offset)
    {
        if ((uint)offset > (uint)Array.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset));
        }

        Offset = offset;
        Length = 0;
    }

    /// <summary>Sets the packet to <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    public void SetRange(int offset, int length)
    {
        if ((uint)offset > (uint)Array.Length || (uint)length > (uint)(Array.Length - offset))
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }

        Offset = offset;
        Length = length;
    }

    /// <summary>Sets the packet length, keeping its start.</summary>
    public void SetLength(int length)
    {
        if ((uint)length > (uint)(Array.Length - Offset))
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }

        Length = length;
    }

    /// <summary>Grows the packet at the front by <paramref name="count"/> bytes (taken from the headroom) and returns them.</summary>
    public Span<byte> Prepend(int count)
    {
        if ((uint)count > (uint)Offset)
        {
            throw new InvalidOperationException("Not enough headroom.");
        }

        Offset -= count;
        Length += count;
        return Array.AsSpan(Offset, count);
    }

    /// <summary>Grows the packet at the back by <paramref name="count"/> bytes (taken from the tailroom) and returns them.</summary>
    public Span<byte> Append(int count)
    {
        if ((uint)count > (uint)Tailroom)
        {
            throw new InvalidOperationException("Not enough tailroom.");
        }

        var span = Array.AsSpan(Offset + Length, count);
        Length += count;
        return span;
    }

    /// <summary>Removes <paramref name="count"/> bytes from the front of the packet (they become headroom).</summary>
    public void TrimFront(int count)
    {
        if ((uint)count > (uint)Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        Offset += count;
        Length -= count;
    }

    /// <summary>Gives the buffer back to its pool. The caller must not touch it afterwards.</summary>
    public void Return()
    {
        Debug.Assert(Offset >= 0);
        _pool?.ReturnBuffer(this);
    }
}
