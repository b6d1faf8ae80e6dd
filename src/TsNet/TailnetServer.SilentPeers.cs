using System.Net;
using TsNet.Dataplane;
using TsNet.WireGuard.Protocol;

namespace TsNet;

// Silent peers for UDP: once the handshake bound has passed since the first unanswered initiation to a peer, sends to
// it fail naming the peer, like a TCP dial to it does, instead of queueing datagrams that can only be dropped.
public sealed partial class TailnetServer
{
    private SilentPeerTracker? _silentPeers;

    /// <summary>Follows the core's handshake events (on the dataplane's task) to know which peers are silent.</summary>
    private void TrackSilentPeers(WireGuardEndpoint core, DataplaneLoop dataplane)
    {
        var tracker = new SilentPeerTracker(_options.TimeProvider, _options.TestHooks.Timers.RejectAfterTime);
        core.HandshakeInitiationSent += peer => tracker.OnInitiationSent(peer, dataplane.Now);
        core.HandshakeCompleted += tracker.OnHandshakeEnded;
        core.HandshakeGaveUp += tracker.OnHandshakeEnded;
        _silentPeers = tracker;
    }

    /// <summary>
    /// The error a UDP send to <paramref name="remote"/> fails with, or null to send: "no peer routes" when nothing
    /// routes the address, the no-handshake error when the peer that routes it is silent. Runs on every send: one
    /// registry lookup and one table lookup, no allocation unless it fails.
    /// </summary>
    private Exception? UdpSendError(IPEndPoint remote)
    {
        var address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
        if (Volatile.Read(ref _addresses).Contains(address))
        {
            return null;
        }

        if (_registry.Current.FindByAddress(address) is not { } peer)
        {
            return NoRouteException(remote.Address);
        }

        if (peer.KeyExpiry is not null && PeerKeyExpiredException(peer) is { } expired)
        {
            return expired;
        }

        var bound = DialHandshakeWait;
        return _silentPeers?.FindSilent(peer, bound) is { } silent ? NoHandshakeException(peer, silent.Endpoint, bound) : null;
    }
}
