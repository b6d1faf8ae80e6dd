using System.Buffers.Binary;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// The 72-byte body shared by Bind (0x04), Challenge (0x05) and Answer (0x06): VNI, client-chosen generation, the disco
/// key of the other client on the endpoint, and the server's challenge (zero in Bind, echoed in Answer). All big-endian.
/// </summary>
internal struct BindUdpRelayEndpointCommon
{
    public const int Length = 72;

    /// <summary>Type, version and the body: 74 bytes.</summary>
    public const int MessageLength = DiscoPacket.MessageHeaderLength + Length;

    private const int GenerationOffset = 4;
    private const int RemoteKeyOffset = 8;
    private const int ChallengeOffset = 40;

    public uint Vni;
    public uint Generation;
    public Bytes32 RemoteKey;
    public Bytes32 Challenge;

    /// <summary>Reads the first 72 bytes of <paramref name="body"/> (trailing bytes are ignored); false when shorter.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out BindUdpRelayEndpointCommon common)
    {
        common = default;
        if (body.Length < Length)
        {
            return false;
        }

        common.Vni = BinaryPrimitives.ReadUInt32BigEndian(body);
        common.Generation = BinaryPrimitives.ReadUInt32BigEndian(body[GenerationOffset..]);
        common.RemoteKey = Bytes32.From(body.Slice(RemoteKeyOffset, 32));
        common.Challenge = Bytes32.From(body.Slice(ChallengeOffset, 32));
        return true;
    }

    /// <summary>Writes <c>type ‖ version 0 ‖ body</c> (74 bytes); returns the length.</summary>
    public readonly int WriteMessage(DiscoMessageType type, Span<byte> destination)
    {
        destination[0] = (byte)type;
        destination[1] = 0;
        var body = destination.Slice(DiscoPacket.MessageHeaderLength, Length);
        BinaryPrimitives.WriteUInt32BigEndian(body, Vni);
        BinaryPrimitives.WriteUInt32BigEndian(body[GenerationOffset..], Generation);
        ((ReadOnlySpan<byte>)RemoteKey).CopyTo(body[RemoteKeyOffset..]);
        ((ReadOnlySpan<byte>)Challenge).CopyTo(body[ChallengeOffset..]);
        return MessageLength;
    }
}
