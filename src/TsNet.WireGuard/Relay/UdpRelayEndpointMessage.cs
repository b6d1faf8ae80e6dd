using System.Buffers.Binary;
using System.Net;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// Tailscale's <c>UDPRelayEndpoint</c> (the body of CallMeMaybeVia and the tail of AllocateUDPRelayEndpointResponse),
/// the layout since capability version 121: server key, both client keys (sorted), Lamport id, VNI, two lifetimes as
/// Go <c>time.Duration</c> nanoseconds, then one or more 18-byte addr:ports. All big-endian.
/// </summary>
internal sealed record UdpRelayEndpointMessage(
    DiscoKey ServerDisco,
    DiscoKey ClientDisco0,
    DiscoKey ClientDisco1,
    ulong LamportId,
    uint Vni,
    TimeSpan BindLifetime,
    TimeSpan SteadyStateLifetime,
    IReadOnlyList<IPEndPoint> AddrPorts)
{
    /// <summary>Bytes before the addr:ports.</summary>
    public const int FixedLength = 124;

    private const int LamportOffset = 96;
    private const int VniOffset = 104;
    private const int BindLifetimeOffset = 108;
    private const int SteadyStateOffset = 116;
    private const long NanosecondsPerTick = 100;

    public int BodyLength => FixedLength + (AddrPorts.Count * DiscoAddrPort.Length);

    public int WriteBody(Span<byte> destination)
    {
        ServerDisco.Bytes.CopyTo(destination);
        ClientDisco0.Bytes.CopyTo(destination[32..]);
        ClientDisco1.Bytes.CopyTo(destination[64..]);
        BinaryPrimitives.WriteUInt64BigEndian(destination[LamportOffset..], LamportId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[VniOffset..], Vni);
        BinaryPrimitives.WriteInt64BigEndian(destination[BindLifetimeOffset..], BindLifetime.Ticks * NanosecondsPerTick);
        BinaryPrimitives.WriteInt64BigEndian(destination[SteadyStateOffset..], SteadyStateLifetime.Ticks * NanosecondsPerTick);
        for (int i = 0; i < AddrPorts.Count; i++)
        {
            DiscoAddrPort.Write(AddrPorts[i], destination[(FixedLength + (i * DiscoAddrPort.Length))..]);
        }

        return BodyLength;
    }

    /// <summary>
    /// Parses a body; null when shorter than the fixed part plus one addr:port (tailscale requires at least one).
    /// Trailing bytes that do not make a whole addr:port are ignored.
    /// </summary>
    public static UdpRelayEndpointMessage? ParseBody(ReadOnlySpan<byte> body)
    {
        if (body.Length < FixedLength + DiscoAddrPort.Length)
        {
            return null;
        }

        var addrPorts = new List<IPEndPoint>();
        for (int offset = FixedLength; offset + DiscoAddrPort.Length <= body.Length; offset += DiscoAddrPort.Length)
        {
            addrPorts.Add(DiscoAddrPort.Read(body[offset..]));
        }

        return new UdpRelayEndpointMessage(
            new DiscoKey(body[..32]),
            new DiscoKey(body.Slice(32, 32)),
            new DiscoKey(body.Slice(64, 32)),
            BinaryPrimitives.ReadUInt64BigEndian(body[LamportOffset..]),
            BinaryPrimitives.ReadUInt32BigEndian(body[VniOffset..]),
            TimeSpan.FromTicks(BinaryPrimitives.ReadInt64BigEndian(body[BindLifetimeOffset..]) / NanosecondsPerTick),
            TimeSpan.FromTicks(BinaryPrimitives.ReadInt64BigEndian(body[SteadyStateOffset..]) / NanosecondsPerTick),
            addrPorts);
    }

    /// <summary>CallMeMaybeVia (0x07): type, version, body.</summary>
    public int WriteCallMeMaybeVia(Span<byte> destination)
    {
        destination[0] = (byte)DiscoMessageType.CallMeMaybeVia;
        destination[1] = 0;
        return DiscoPacket.MessageHeaderLength + WriteBody(destination[DiscoPacket.MessageHeaderLength..]);
    }

    /// <summary>AllocateUDPRelayEndpointResponse (0x09): type, version, the request's generation, body.</summary>
    public int WriteAllocateResponse(uint generation, Span<byte> destination)
    {
        destination[0] = (byte)DiscoMessageType.AllocateUdpRelayEndpointResponse;
        destination[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], generation);
        return DiscoPacket.MessageHeaderLength + 4 + WriteBody(destination[(DiscoPacket.MessageHeaderLength + 4)..]);
    }

    /// <summary>Parses an AllocateUDPRelayEndpointResponse body (generation then the endpoint).</summary>
    public static (uint Generation, UdpRelayEndpointMessage Endpoint)? ParseAllocateResponse(ReadOnlySpan<byte> body)
    {
        if (body.Length < 4)
        {
            return null;
        }

        var endpoint = ParseBody(body[4..]);
        return endpoint is null ? null : (BinaryPrimitives.ReadUInt32BigEndian(body), endpoint);
    }
}
