using System.Net;

namespace TsNet.WireGuard.Relay;

/// <summary>Disco CallMeMaybe (0x03): the sender's candidate endpoints, 18 bytes each.</summary>
internal sealed record DiscoCallMeMaybe(IReadOnlyList<IPEndPoint> Endpoints)
{
    public int MessageLength => DiscoPacket.MessageHeaderLength + (Endpoints.Count * DiscoAddrPort.Length);

    public int Write(Span<byte> destination)
    {
        destination[0] = (byte)DiscoMessageType.CallMeMaybe;
        destination[1] = 0;
        for (int i = 0; i < Endpoints.Count; i++)
        {
            DiscoAddrPort.Write(Endpoints[i], destination[(2 + (i * DiscoAddrPort.Length))..]);
        }

        return MessageLength;
    }

    /// <summary>A version other than 0, an empty body or a length not a multiple of 18 gives an empty list (not an error).</summary>
    public static DiscoCallMeMaybe Parse(byte version, ReadOnlySpan<byte> body)
    {
        var endpoints = new List<IPEndPoint>();
        if (version == 0 && body.Length > 0 && body.Length % DiscoAddrPort.Length == 0)
        {
            for (int offset = 0; offset < body.Length; offset += DiscoAddrPort.Length)
            {
                endpoints.Add(DiscoAddrPort.Read(body[offset..]));
            }
        }

        return new DiscoCallMeMaybe(endpoints);
    }
}
