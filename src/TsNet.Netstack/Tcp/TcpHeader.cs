using System.Buffers.Binary;
using TsNet.Packets;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// The validated meaning of a TCP header (RFC 9293 §3.1) with every option TsNet understands: MSS, window scale,
/// SACK-permitted, SACK blocks and timestamps. <see cref="TryParse(TcpSegment, out TcpHeader)"/> reads untrusted
/// bytes (malformed or wrong-length options make it fail: RFC 9293 says drop such segments); <see cref="Emit"/>
/// writes a header with the checksum field zero (the caller fills it with the IP pseudo-header).
/// </summary>
/// <remarks>
/// Options are emitted in Linux's layout so captures look familiar and every group is 32-bit aligned:
/// SYN <c>02 04 mss | 04 02 08 0a tsval tsecr | 01 03 03 shift</c>, data <c>01 01 08 0a tsval tsecr | 01 01 05 len …</c>.
/// </remarks>
internal readonly record struct TcpHeader
{
    /// <summary>Fixed header length without options.</summary>
    public const int MinLength = TcpSegment.MinHeaderLength;

    /// <summary>Longest header: 20 bytes plus 40 bytes of options.</summary>
    public const int MaxLength = TcpSegment.MaxHeaderLength;

    /// <summary>Room for options.</summary>
    public const int MaxOptionsLength = MaxLength - MinLength;

    /// <summary>Largest window shift RFC 7323 §2.3 allows; larger received values are treated as this.</summary>
    public const byte MaxWindowScale = 14;

    private const int MssOptionLength = 4;
    private const int WindowScaleOptionLength = 3;
    private const int SackPermittedOptionLength = 2;
    private const int TimestampsOptionLength = 10;
    private const int SackBlockLength = 8;
    private const int OptionHeaderLength = 2;

    /// <summary>Bytes a (NOP-aligned) timestamps option takes in a segment.</summary>
    public const int TimestampsAlignedLength = 12;

    /// <summary>Source port.</summary>
    public ushort SourcePort { get; init; }

    /// <summary>Destination port.</summary>
    public ushort DestinationPort { get; init; }

    /// <summary>Sequence number (SEG.SEQ).</summary>
    public SeqNum SequenceNumber { get; init; }

    /// <summary>Acknowledgment number (SEG.ACK); meaningful with <see cref="TcpFlags.Ack"/>.</summary>
    public SeqNum AcknowledgmentNumber { get; init; }

    /// <summary>Control bits.</summary>
    public TcpFlags Flags { get; init; }

    /// <summary>Window field as on the wire (unscaled).</summary>
    public ushort Window { get; init; }

    /// <summary>Urgent pointer (urgent data is treated as in-line; kept for round trips).</summary>
    public ushort UrgentPointer { get; init; }

    /// <summary>MSS option (SYN only), or null.</summary>
    public ushort? MaxSegmentSize { get; init; }

    /// <summary>Window scale option (SYN only) as received (may exceed 14), or null.</summary>
    public byte? WindowScale { get; init; }

    /// <summary>SACK-permitted option (SYN only).</summary>
    public bool SackPermitted { get; init; }

    /// <summary>Timestamps option, or null.</summary>
    public TcpTimestamps? Timestamps { get; init; }

    /// <summary>SACK blocks (empty when the option is absent).</summary>
    public SackBlocks Sack { get; init; }

    /// <summary>True when <paramref name="flag"/> is set.</summary>
    public bool Has(TcpFlags flag) => (Flags & flag) != 0;

    /// <summary>Sequence space the segment occupies: payload plus one each for SYN and FIN (SEG.LEN).</summary>
    public int SegmentLength(int payloadLength) =>
        payloadLength + (Has(TcpFlags.Syn) ? 1 : 0) + (Has(TcpFlags.Fin) ? 1 : 0);

    /// <summary>Bytes of options <see cref="Emit"/> writes (a multiple of 4, at most 40).</summary>
    public int OptionsLength
    {
        get
        {
            int length = FixedOptionsLength;
            int blocks = SackBlocksThatFit(length);
            return blocks == 0 ? length : length + 4 + (SackBlockLength * blocks);
        }
    }

    /// <summary>Header length <see cref="Emit"/> writes.</summary>
    public int Length => MinLength + OptionsLength;

    // Options other than SACK blocks; each group is padded to 4 bytes with NOPs.
    private int FixedOptionsLength =>
        (MaxSegmentSize.HasValue ? 4 : 0)
        + (Timestamps.HasValue ? TimestampsAlignedLength : SackPermitted ? 4 : 0)
        + (WindowScale.HasValue ? 4 : 0);

    private int SackBlocksThatFit(int fixedLength)
    {
        int room = (MaxOptionsLength - fixedLength - 4) / SackBlockLength;
        return Math.Clamp(Math.Min(room, Sack.Count), 0, SackBlocks.MaxCount);
    }

    /// <summary>Parses a checked segment view; false when an option is malformed.</summary>
    public static bool TryParse(TcpSegment segment, out TcpHeader header)
    {
        header = default;
        ushort? mss = null;
        byte? windowScale = null;
        bool sackPermitted = false;
        TcpTimestamps? timestamps = null;
        var sack = SackBlocks.Empty;

        var reader = new TcpOptionReader(segment.Options);
        while (reader.TryRead(out byte kind, out var data))
        {
            int length = data.Length + OptionHeaderLength;
            switch (kind)
            {
                case TcpOptionKind.MaximumSegmentSize:
                    if (length != MssOptionLength)
                    {
                        return false;
                    }

                    mss = BinaryPrimitives.ReadUInt16BigEndian(data);
                    break;
                case TcpOptionKind.WindowScale:
                    if (length != WindowScaleOptionLength)
                    {
                        return false;
                    }

                    windowScale = data[0];
                    break;
                case TcpOptionKind.SackPermitted:
                    if (length != SackPermittedOptionLength)
                    {
                        return false;
                    }

                    sackPermitted = true;
                    break;
                case TcpOptionKind.Sack:
                    if (data.Length == 0 || data.Length % SackBlockLength != 0)
                    {
                        return false;
                    }

                    sack = SackBlocks.Empty;
                    for (int offset = 0; offset < data.Length; offset += SackBlockLength)
                    {
                        sack = sack.Add(new SackBlock(
                            new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(data[offset..])),
                            new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(data[(offset + 4)..]))));
                    }

                    break;
                case TcpOptionKind.Timestamps:
                    if (length != TimestampsOptionLength)
                    {
                        return false;
                    }

                    timestamps = new TcpTimestamps(
                        BinaryPrimitives.ReadUInt32BigEndian(data),
                        BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
                    break;
                default:
                    break; // Unknown kinds (MPTCP, TFO, MD5, experimental …) are skipped by length.
            }
        }

        if (reader.IsMalformed)
        {
            return false;
        }

        header = new TcpHeader
        {
            SourcePort = segment.SourcePort,
            DestinationPort = segment.DestinationPort,
            SequenceNumber = new SeqNum(segment.SequenceNumber),
            AcknowledgmentNumber = new SeqNum(segment.AcknowledgmentNumber),
            Flags = segment.Flags,
            Window = segment.Window,
            UrgentPointer = segment.UrgentPointer,
            MaxSegmentSize = mss,
            WindowScale = windowScale,
            SackPermitted = sackPermitted,
            Timestamps = timestamps,
            Sack = sack,
        };
        return true;
    }

    /// <summary>Checks and parses raw segment bytes (the IP payload) and returns the data behind the header.</summary>
    public static bool TryParse(ReadOnlySpan<byte> segmentBytes, out TcpHeader header, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        header = default;
        if (!TcpSegment.TryCreate(segmentBytes, out var segment) || !TryParse(segment, out header))
        {
            return false;
        }

        payload = segment.Payload;
        return true;
    }

    /// <summary>
    /// Writes the header (options included, checksum zero) to the start of <paramref name="destination"/> and
    /// returns its length. SACK blocks that do not fit the option space are left out (the first ones are kept).
    /// </summary>
    public int Emit(Span<byte> destination)
    {
        int fixedOptions = FixedOptionsLength;
        int sackBlocks = SackBlocksThatFit(fixedOptions);
        int headerLength = MinLength + fixedOptions + (sackBlocks == 0 ? 0 : 4 + (SackBlockLength * sackBlocks));
        if (destination.Length < headerLength)
        {
            throw new ArgumentException("Destination is too small for the header.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination[TcpSegment.SourcePortOffset..], SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[TcpSegment.DestinationPortOffset..], DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(destination[TcpSegment.SequenceNumberOffset..], SequenceNumber.Value);
        BinaryPrimitives.WriteUInt32BigEndian(destination[TcpSegment.AcknowledgmentNumberOffset..], AcknowledgmentNumber.Value);
        destination[TcpSegment.DataOffsetOffset] = (byte)((headerLength / 4) << 4);
        destination[TcpSegment.FlagsOffset] = (byte)Flags;
        BinaryPrimitives.WriteUInt16BigEndian(destination[TcpSegment.WindowOffset..], Window);
        BinaryPrimitives.WriteUInt16BigEndian(destination[TcpSegment.ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[TcpSegment.UrgentPointerOffset..], UrgentPointer);

        Span<byte> options = destination[MinLength..headerLength];
        int at = 0;
        if (MaxSegmentSize is ushort mss)
        {
            options[at++] = TcpOptionKind.MaximumSegmentSize;
            options[at++] = MssOptionLength;
            BinaryPrimitives.WriteUInt16BigEndian(options[at..], mss);
            at += 2;
        }

        if (Timestamps is TcpTimestamps timestamps)
        {
            if (SackPermitted)
            {
                options[at++] = TcpOptionKind.SackPermitted;
                options[at++] = SackPermittedOptionLength;
            }
            else
            {
                options[at++] = TcpOptionKind.NoOperation;
                options[at++] = TcpOptionKind.NoOperation;
            }

            options[at++] = TcpOptionKind.Timestamps;
            options[at++] = TimestampsOptionLength;
            BinaryPrimitives.WriteUInt32BigEndian(options[at..], timestamps.Value);
            BinaryPrimitives.WriteUInt32BigEndian(options[(at + 4)..], timestamps.EchoReply);
            at += 8;
        }
        else if (SackPermitted)
        {
            options[at++] = TcpOptionKind.NoOperation;
            options[at++] = TcpOptionKind.NoOperation;
            options[at++] = TcpOptionKind.SackPermitted;
            options[at++] = SackPermittedOptionLength;
        }

        if (WindowScale is byte shift)
        {
            options[at++] = TcpOptionKind.NoOperation;
            options[at++] = TcpOptionKind.WindowScale;
            options[at++] = WindowScaleOptionLength;
            options[at++] = shift;
        }

        if (sackBlocks > 0)
        {
            options[at++] = TcpOptionKind.NoOperation;
            options[at++] = TcpOptionKind.NoOperation;
            options[at++] = TcpOptionKind.Sack;
            options[at++] = (byte)(OptionHeaderLength + (SackBlockLength * sackBlocks));
            for (int i = 0; i < sackBlocks; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(options[at..], Sack[i].Left.Value);
                BinaryPrimitives.WriteUInt32BigEndian(options[(at + 4)..], Sack[i].Right.Value);
                at += SackBlockLength;
            }
        }

        return headerLength;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{SourcePort}->{DestinationPort} [{Flags}] seq={SequenceNumber} ack={AcknowledgmentNumber} win={Window}"
        + (MaxSegmentSize is { } mss ? $" mss={mss}" : string.Empty)
        + (WindowScale is { } ws ? $" ws={ws}" : string.Empty)
        + (SackPermitted ? " sackOK" : string.Empty)
        + (Timestamps is { } ts ? $" ts={ts.Value}/{ts.EchoReply}" : string.Empty)
        + (Sack.Count > 0 ? $" sack={Sack}" : string.Empty);
}
