using System.Buffers.Binary;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// The relay server's stateless challenge: BLAKE2s-256 keyed with a rotating secret over
/// <c>VNI ‖ Generation ‖ RemoteKey ‖ source address bytes ‖ source port little-endian</c> (tailscale's current
/// algorithm; the source encoding is Go's <c>netip.AddrPort.AppendBinary</c>). Because the source is covered, an
/// Answer only verifies from the address the Challenge went to.
/// </summary>
internal static class RelayChallengeMac
{
    public const int SecretLength = 32;
    public const int Length = 32;

    public static void Compute(ReadOnlySpan<byte> secret, uint vni, uint generation, ReadOnlySpan<byte> remoteKey, UnderlayAddress source, Span<byte> challenge)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, vni);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], generation);
        Span<byte> address = stackalloc byte[UnderlayAddress.MaxEncodedLength];
        int addressLength = source.EncodeForCookie(address);
        var engine = new Blake2sEngine(Length, secret);
        engine.Update(header);
        engine.Update(remoteKey);
        engine.Update(address[..addressLength]);
        engine.Finish(challenge);
    }
}
