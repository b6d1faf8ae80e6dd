using System.Net;
using Microsoft.Extensions.Logging;
using TsNet.Dataplane;
using TsNet.WireGuard.Protocol;

namespace TsNet;

// Peer configuration: resolving endpoints, applying settings to the WireGuard core on the dataplane's task, and
// re-resolving host-name endpoints when handshakes go unanswered.
public sealed partial class TailnetServer
{
    private readonly HashSet<string> _resolving = new(StringComparer.Ordinal);

    private List<TailnetPeer> PeerList => (List<TailnetPeer>)_options.Peers;

    private async Task<PeerSettings> ResolvePeerAsync(TailnetPeer peer, CancellationToken cancellationToken)
    {
        UnderlayAddress? endpoint = null;
        string? host = null;
        RelayPathSettings? relay = null;
        if (peer.Relay is { Address: { } relayAddress } path)
        {
            // A relayed peer uses the relay for all its traffic: its WireGuard endpoint is the relay's address + VNI.
            relay = new RelayPathSettings(UnderlayAddress.FromIPEndPoint(relayAddress), path.ServerDiscoKey, path.Vni, path.PeerDiscoKey);
            endpoint = relay.Endpoint;
        }
        else if (peer.Endpoint is { } text)
        {
            EndpointParser.TrySplit(text, out var hostPart, out _, out _);
            if (!IPAddress.TryParse(hostPart, out _))
            {
                host = text;
            }

            try
            {
                endpoint = UnderlayAddress.FromIPEndPoint(await EndpointParser.ResolveAsync(text, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or FormatException)
            {
                // A name that does not resolve yet is retried on each handshake retry; the peer can still reach us.
                LogResolveFailed(_logger, text, ex.Message);
            }
        }

        return new PeerSettings(
            peer.PublicKey.Bytes.ToArray(),
            peer.PresharedKey?.Bytes.ToArray(),
            endpoint,
            host,
            peer.AllowedIps.ToList(),
            peer.PersistentKeepalive ?? TimeSpan.Zero,
            peer.Name,
            relay);
    }

    private static ValueTask<WireGuardPeer> ApplyPeer(DataplaneLoop loop, PeerSettings settings, long now)
    {
        var core = loop.Core;
        var peer = core.AddPeer(settings.PublicKey);
        peer.SetPresharedKey(settings.PresharedKey ?? ReadOnlySpan<byte>.Empty);
        core.SetAllowedIps(peer, settings.AllowedIps.Select(n => (n.BaseAddress, n.PrefixLength)));
        if (settings.Endpoint is { } endpoint)
        {
            core.ConfigureEndpoint(peer, endpoint);
        }
        else if (peer.Endpoint.Vni != 0)
        {
            // The relay path was taken away: forget the relayed endpoint until the peer reaches us directly.
            core.ConfigureEndpoint(peer, default);
        }

        loop.ConfigureRelayPath(settings.PublicKey, settings.Relay, now);

        peer.Tag = settings;
        if (settings.PersistentKeepalive != peer.PersistentKeepaliveInterval)
        {
            core.SetPersistentKeepalive(peer, settings.PersistentKeepalive, now, loop);
        }

        return new ValueTask<WireGuardPeer>(peer);
    }

    private async Task ApplyPeerLaterAsync(DataplaneLoop dataplane, TailnetPeer peer)
    {
        try
        {
            var settings = await ResolvePeerAsync(peer, _disposing.Token).ConfigureAwait(false);
            await dataplane.InvokeAsync<WireGuardPeer>((loop, now) => ApplyPeer(loop, settings, now), _disposing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The node stopped.
        }
        catch (Exception ex)
        {
            LogPeerUpdateFailed(_logger, peer.PublicKey.ToString(), ex);
        }
    }

    /// <summary>On the dataplane's task: a handshake went unanswered; look the peer's host name up again.</summary>
    private void OnHandshakeRetrying(WireGuardPeer peer)
    {
        if (peer.Tag is not PeerSettings { EndpointHost: { } host } settings)
        {
            return;
        }

        lock (_resolving)
        {
            if (!_resolving.Add(host))
            {
                return;
            }
        }

        _background.Track(ReresolveAsync(settings, host));
    }

    private async Task ReresolveAsync(PeerSettings settings, string host)
    {
        try
        {
            var endpoint = UnderlayAddress.FromIPEndPoint(await EndpointParser.ResolveAsync(host, _disposing.Token).ConfigureAwait(false));
            var dataplane = _dataplane;
            if (dataplane is not null)
            {
                await dataplane.InvokeAsync((loop, _) =>
                {
                    if (loop.Core.TryGetPeer(settings.PublicKey, out var peer) && peer is not null && peer.Endpoint != endpoint)
                    {
                        loop.Core.ConfigureEndpoint(peer, endpoint);
                    }
                }, _disposing.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogResolveFailed(_logger, host, ex.Message);
        }
        finally
        {
            lock (_resolving)
            {
                _resolving.Remove(host);
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Node {PublicKey} up on UDP port {Port}, addresses {Addresses}")]
    private static partial void LogStarted(ILogger logger, string publicKey, int port, string addresses);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Node stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Start failed while the node was being disposed")]
    private static partial void LogStartFailedDuringDispose(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "{Count} background operations (peer updates, name lookups, fallback TCP handlers) were still running 5 s after the node stopped")]
    private static partial void LogBackgroundWorkOutlived(ILogger logger, int count);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Could not resolve peer endpoint {Endpoint}: {Reason}")]
    private static partial void LogResolveFailed(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "Updating peer {PublicKey} failed")]
    private static partial void LogPeerUpdateFailed(ILogger logger, string publicKey, Exception exception);
}
