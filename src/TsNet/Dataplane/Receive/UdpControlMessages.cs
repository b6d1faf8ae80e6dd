using System.Buffers.Binary;

namespace TsNet.Dataplane.Receive;

/// <summary>
/// Reads the ancillary data (<c>cmsg</c> chain) a Linux <c>recvmsg</c> returns, 64-bit layout: each message is a
/// <c>size_t cmsg_len</c>, <c>int cmsg_level</c>, <c>int cmsg_type</c>, then its data, padded to 8 bytes.
/// Sans-IO: the receive loop hands the bytes the kernel wrote.
/// </summary>
internal static class UdpControlMessages
{
    /// <summary><c>SOL_UDP</c> (= IPPROTO_UDP) on Linux.</summary>
    public const int SolUdp = 17;

    /// <summary><c>UDP_GRO</c>: the socket option that turns receive coalescing on, and the cmsg carrying the segment size.</summary>
    public const int UdpGro = 104;

    /// <summary>Size of a <c>cmsghdr</c> (and the alignment of every message) on 64-bit Linux.</summary>
    public const int HeaderSize = 16;

    private const int Alignment = 8;

    /// <summary>
    /// Finds the <c>UDP_GRO</c> message: the size of each datagram the kernel coalesced into this receive (all equal,
    /// the last one may be shorter). False when there is none: the receive holds exactly one datagram.
    /// </summary>
    public static bool TryReadGroSegmentSize(ReadOnlySpan<byte> control, out int segmentSize)
    {
        segmentSize = 0;
        var offset = 0;
        while (control.Length - offset >= HeaderSize)
        {
            var length = BinaryPrimitives.ReadUInt64LittleEndian(control[offset..]);
            if (length < HeaderSize || length > (ulong)(control.Length - offset))
            {
                // A malformed or truncated chain (MSG_CTRUNC): trust nothing behind it.
                return false;
            }

            var level = BinaryPrimitives.ReadInt32LittleEndian(control[(offset + 8)..]);
            var type = BinaryPrimitives.ReadInt32LittleEndian(control[(offset + 12)..]);
            if (level == SolUdp && type == UdpGro && length >= HeaderSize + sizeof(int))
            {
                segmentSize = BinaryPrimitives.ReadInt32LittleEndian(control[(offset + HeaderSize)..]);
                return segmentSize > 0;
            }

            var next = (length + Alignment - 1) & ~(ulong)(Alignment - 1);
            if (next > (ulong)(control.Length - offset))
            {
                return false;
            }

            offset += (int)next;
        }

        return false;
    }

    /// <summary>Writes one <c>UDP_GRO</c> message (what the kernel writes; for tests and the benchmarks' checks).</summary>
    public static int WriteGroSegmentSize(Span<byte> control, int segmentSize)
    {
        const int Length = HeaderSize + sizeof(int);
        BinaryPrimitives.WriteUInt64LittleEndian(control, Length);
        BinaryPrimitives.WriteInt32LittleEndian(control[8..], SolUdp);
        BinaryPrimitives.WriteInt32LittleEndian(control[12..], UdpGro);
        BinaryPrimitives.WriteInt32LittleEndian(control[HeaderSize..], segmentSize);
        control[Length..((Length + Alignment - 1) & ~(Alignment - 1))].Clear();
        return (Length + Alignment - 1) & ~(Alignment - 1);
    }
}
