using TsNet.WireGuard.Protocol;

namespace TsNet.WireGuard.Relay;

/// <summary>Where a <see cref="RelayClientCore"/> puts what it produces: datagrams to send and path events to report.</summary>
internal interface IRelayClientOutput
{
    /// <summary>Sends <paramref name="datagram"/> (a Bind or Answer, copied before return) to the relay at <paramref name="server"/>.</summary>
    void SendToRelay(in UnderlayAddress server, ReadOnlySpan<byte> datagram);

    /// <summary>A bound path stopped answering binds: traffic to its peer is dropped until it binds again.</summary>
    void PathLost(RelayClientPath path);

    /// <summary>A path can never bind (a low-order disco key, no private key): it retries only at the refresh interval.</summary>
    void PathUnusable(RelayClientPath path, string reason);
}
