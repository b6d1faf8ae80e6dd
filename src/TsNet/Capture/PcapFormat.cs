using System.Buffers.Binary;

namespace TsNet.Capture;

/// <summary>
/// The classic libpcap file format (not pcapng): a 24-byte global header, then a 16-byte record header before each
/// packet. We write it little-endian with microsecond timestamps and link type 101 (LINKTYPE_RAW: each record is a
/// bare IPv4 or IPv6 packet, told apart by its version nibble) — what tshark, tcpdump and Wireshark all read.
/// </summary>
internal static class PcapFormat
{
    public const uint Magic = 0xA1B2C3D4;
    public const ushort VersionMajor = 2;
    public const ushort VersionMinor = 4;
    public const uint LinkTypeRaw = 101;
    public const int GlobalHeaderSize = 24;
    public const int RecordHeaderSize = 16;

    /// <summary>Largest packet we record whole; longer ones are truncated (the original length is still written).</summary>
    public const int SnapLength = 65535;

    public static void WriteGlobalHeader(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], VersionMinor);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], 0);   // thiszone: timestamps are UTC
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], LinkTypeRaw);
    }

    public static void WriteRecordHeader(Span<byte> destination, DateTimeOffset timestamp, int capturedLength, int originalLength)
    {
        var sinceEpoch = timestamp.ToUniversalTime() - DateTimeOffset.UnixEpoch;
        var microseconds = sinceEpoch.Ticks / 10;
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)(microseconds / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)(microseconds % 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)capturedLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)originalLength);
    }
}
