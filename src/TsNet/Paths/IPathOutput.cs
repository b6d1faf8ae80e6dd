using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>
/// Where the sans-IO path machinery (disco, STUN, path choice) sends what it produces. Called on the dataplane loop
/// only; every method copies or sends the bytes before it returns, and drops and counts what cannot go.
/// </summary>
internal interface IPathOutput
{
    /// <summary>Sends <paramref name="datagram"/> (disco or STUN) from the node's UDP socket to <paramref name="destination"/>.</summary>
    void SendUdp(in UnderlayAddress destination, ReadOnlySpan<byte> datagram);

    /// <summary>
    /// Sends <paramref name="datagram"/> (disco or WireGuard) through DERP region <paramref name="regionId"/> to the
    /// node whose node (WireGuard) public key is <paramref name="nodeKey"/>, connecting to that region if needed.
    /// </summary>
    void SendDerp(int regionId, ReadOnlySpan<byte> nodeKey, ReadOnlySpan<byte> datagram);
}
