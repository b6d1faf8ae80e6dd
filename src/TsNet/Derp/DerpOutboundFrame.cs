using System.Buffers;
using TsNet.Packets.Buffers;

namespace TsNet.Derp;

/// <summary>
/// One whole frame waiting in a region's send queue: in a pooled packet buffer when it fits one, else in an
/// <see cref="ArrayPool{T}"/> array (packets up to 64 KiB). Neither set = a wake-up for the writer (home change).
/// </summary>
internal readonly struct DerpOutboundFrame
{
    private readonly PacketBuffer? _buffer;
    private readonly byte[]? _array;
    private readonly int _length;

    /// <summary>A frame in a pooled buffer (the frame is the buffer's packet).</summary>
    public DerpOutboundFrame(PacketBuffer buffer)
    {
        _buffer = buffer;
        _length = buffer.Length;
    }

    /// <summary>A frame in the first <paramref name="length"/> bytes of an array from <see cref="ArrayPool{T}.Shared"/>.</summary>
    public DerpOutboundFrame(byte[] array, int length)
    {
        _array = array;
        _length = length;
    }

    /// <summary>True for the writer wake-up item.</summary>
    public bool IsWake => _buffer is null && _array is null;

    /// <summary>The frame bytes.</summary>
    public ReadOnlyMemory<byte> Memory => _buffer is not null ? _buffer.Memory : _array.AsMemory(0, _length);

    /// <summary>Gives the storage back to its pool.</summary>
    public void Return()
    {
        _buffer?.Return();
        if (_array is not null)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }
    }
}
