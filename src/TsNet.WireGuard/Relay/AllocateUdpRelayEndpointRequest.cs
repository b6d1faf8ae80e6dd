using System.Buffers.Binary;

namespace TsNet.WireGuard.Relay;

/// <summary>AllocateUDPRelayEndpointRequest (0x08): the two clients' disco keys and a generation the response echoes.</summary>
internal sealed record AllocateUdpRelayEndpointRequest(DiscoKey ClientDisco0, DiscoKey ClientDisco1, uint Generation)
{
    public const int BodyLength = 68;

    public int Write(Span<byte> destination)
    {
        destination[0] = (byte)DiscoMessageType.AllocateUdpRelayEndpointRequest;
        destination[1] = 0;
        ClientDisco0.Bytes.CopyTo(destination[2..]);
        ClientDisco1.Bytes.CopyTo(destination[34..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[66..], Generation);
        return DiscoPacket.MessageHeaderLength + BodyLength;
    }

    /// <summary>Version must be 0 and the body at least 68 bytes.</summary>
    public static AllocateUdpRelayEndpointRequest? Parse(byte version, ReadOnlySpan<byte> body) =>
        version != 0 || body.Length < BodyLength
            ? null
            : new AllocateUdpRelayEndpointRequest(new DiscoKey(body[..32]), new DiscoKey(body.Slice(32, 32)), BinaryPrimitives.ReadUInt32BigEndian(body[64..]));
}
