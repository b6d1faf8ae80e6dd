namespace TsNet.WireGuard.Relay;

/// <summary>Disco Ping (0x01): transaction id, optionally the sender's WireGuard public key, then zero padding.</summary>
internal sealed record DiscoPing(byte[] TxId, byte[]? NodeKey, int Padding)
{
    public const int TxIdLength = 12;
    private const int NodeKeyLength = 32;

    public int MessageLength => DiscoPacket.MessageHeaderLength + TxIdLength + (NodeKey is null ? 0 : NodeKeyLength) + Padding;

    public int Write(Span<byte> destination)
    {
        int length = MessageLength;
        destination[..length].Clear();
        destination[0] = (byte)DiscoMessageType.Ping;
        TxId.AsSpan(0, TxIdLength).CopyTo(destination[2..]);
        NodeKey?.AsSpan(0, NodeKeyLength).CopyTo(destination[(2 + TxIdLength)..]);
        return length;
    }

    /// <summary>Body ≥ 12 bytes; bytes 12–43 are the node key when present; the rest counts as padding.</summary>
    public static DiscoPing? Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length < TxIdLength)
        {
            return null;
        }

        byte[]? nodeKey = null;
        int padding = body.Length - TxIdLength;
        if (body.Length >= TxIdLength + NodeKeyLength)
        {
            nodeKey = body.Slice(TxIdLength, NodeKeyLength).ToArray();
            padding -= NodeKeyLength;
        }

        return new DiscoPing(body[..TxIdLength].ToArray(), nodeKey, padding);
    }
}
