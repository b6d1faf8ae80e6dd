using System.Net;

namespace TsNet.WireGuard.Relay;

/// <summary>Disco Pong (0x02): the ping's transaction id and the source address the ping came from.</summary>
internal sealed record DiscoPong(byte[] TxId, IPEndPoint Source)
{
    public const int BodyLength = DiscoPing.TxIdLength + DiscoAddrPort.Length;

    public int Write(Span<byte> destination)
    {
        destination[0] = (byte)DiscoMessageType.Pong;
        destination[1] = 0;
        TxId.AsSpan(0, DiscoPing.TxIdLength).CopyTo(destination[2..]);
        DiscoAddrPort.Write(Source, destination[(2 + DiscoPing.TxIdLength)..]);
        return DiscoPacket.MessageHeaderLength + BodyLength;
    }

    public static DiscoPong? Parse(ReadOnlySpan<byte> body) =>
        body.Length < BodyLength ? null : new DiscoPong(body[..DiscoPing.TxIdLength].ToArray(), DiscoAddrPort.Read(body[DiscoPing.TxIdLength..]));
}
