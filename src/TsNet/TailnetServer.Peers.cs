using System.Net;
using Microsoft.Extensions.Logging;
using TsNet.Dataplane;
using TsNet.Registry;
using TsNet.WireGuard.Protocol;

namespace TsNet;

// Peer configuration: the registry (what the node's peers are; every reader takes its snapshot), resolving endpoints,
// applying settings to the WireGuard core on the dataplane's task, and re-resolving host-name endpoints when
// handshakes go unanswered.
public sealed partial class TailnetServer
{
    private readonly HashSet<string> _resolving = new(StringComparer.Ordinal);
    private readonly PeerRegistry _registry = new();

    /// <summary>
    /// Adds a peer or replaces the configuration of the peer with the same public key; sessions with other peers
    /// (and this peer's session, if its keys did not change) continue. The registry (names, routes, status, WhoIs)
    /// has the change when this returns; the dataplane applies it shortly after (<see cref="AddOrUpdatePeerAsync"/>
    /// waits for that). Before start, changes the initial peer list.
    /// </summary>
    /// <exception cref="ArgumentException">The peer is invalid (the message says which setting).</exception>
    /// <exception cref="InvalidOperationException">The node faulted, or it is in control mode (the coordination server provides the peers).</exception>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    public void AddOrUpdatePeer(TailnetPeer peer)
    {
        var (entry, dataplane) = Register(peer);
        if (dataplane is not null)
        {
            _background.Track(ApplyInBackgroundAsync(dataplane, entry));
        }
    }

    /// <summary>
    /// Adds a peer or replaces the configuration of the peer with the same public key, and completes once the
    /// dataplane has applied it (its endpoint host name resolved, if it has one). Like <see cref="AddOrUpdatePeer"/>,
    /// sessions of unchanged peers continue. When a later update of the same peer overtakes this one, this call
    /// completes without applying the older settings.
    /// </summary>
    /// <exception cref="ArgumentException">The peer is invalid (the message says which setting).</exception>
    /// <exception cref="InvalidOperationException">The node faulted, or it is in control mode (the coordination server provides the peers).</exception>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    public async ValueTask AddOrUpdatePeerAsync(TailnetPeer peer, CancellationToken cancellationToken = default)
    {
        var (entry, dataplane) = Register(peer);
        if (dataplane is not null)
        {
            await ApplyPeerAsync(dataplane, entry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Removes a peer and wipes its session; false when it was not configured. The registry forgets it before this
    /// returns; the dataplane shortly after (<see cref="RemovePeerAsync"/> waits for that).
    /// </summary>
    /// <exception cref="InvalidOperationException">The node faulted, or it is in control mode (the coordination server provides the peers).</exception>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    public bool RemovePeer(WireGuardKey publicKey)
    {
        var (removed, dataplane) = Unregister(publicKey);
        if (removed && dataplane is not null)
        {
            _background.Track(UnapplyInBackgroundAsync(dataplane, publicKey));
        }

        return removed;
    }

    /// <summary>
    /// Removes a peer and wipes its session, completing once the dataplane dropped it; false when it was not configured.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node faulted, or it is in control mode (the coordination server provides the peers).</exception>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    public async ValueTask<bool> RemovePeerAsync(WireGuardKey publicKey, CancellationToken cancellationToken = default)
    {
        var (removed, dataplane) = Unregister(publicKey);
        if (removed && dataplane is not null)
        {
            await UnapplyPeerAsync(dataplane, publicKey, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>Validates <paramref name="peer"/> and puts it in the registry; returns the dataplane to apply it to, if started.</summary>
    private (RegistryPeer Entry, DataplaneLoop? Dataplane) Register(TailnetPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        EnsureStaticMode();
        var copy = OptionsValidation.ValidatePeer(peer, PublicKey);
        var entry = RegistryPeer.FromStatic(copy, _options.DnsSuffix);
        DataplaneLoop? dataplane;
        IReadOnlyList<RegistryPeer> peers;
        lock (_gate)
        {
            // Under the node's gate, so a start either sees this entry in the registry or this call sees its dataplane.
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
            ThrowIfFaulted();
            _registry.AddOrUpdate(entry, EnsureRelayPathUnused);
            peers = _registry.Current.Peers;
            dataplane = _dataplane;
        }

        AllowedIpsOverlap.WarnAgainst(entry, peers, _logger);
        return (entry, dataplane);
    }

    private (bool Removed, DataplaneLoop? Dataplane) Unregister(WireGuardKey publicKey)
    {
        EnsureStaticMode();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
            ThrowIfFaulted();
            return (_registry.Remove(publicKey) is not null, _dataplane);
        }
    }

    /// <summary>
    /// Two peers on the same relay endpoint (relay address + VNI) could not be told apart: inbound relayed packets are
    /// attributed by that pair, so the second would silently take over the first's path.
    /// </summary>
    private static void EnsureRelayPathUnused(PeerRegistrySnapshot registry, RegistryPeer peer)
    {
        if (peer.Relay is not { } relay)
        {
            return;
        }

        foreach (var other in registry.Peers)
        {
            if (other.NodeKey != peer.NodeKey && other.Relay is { } taken && taken.Vni == relay.Vni && Equals(taken.Address, relay.Address))
            {
                throw new ArgumentException(
                    $"Peer {peer.NodeKey}: relay endpoint {relay.Address} VNI {relay.Vni} is already the path of peer {other.NodeKey}; each relay endpoint joins one pair of nodes.",
                    nameof(peer));
            }
        }
    }

    /// <summary>At start: applies every registry peer (after the dataplane was published, so no update is missed).</summary>
    private async Task ApplyRegistryAsync(DataplaneLoop dataplane, CancellationToken cancellationToken)
    {
        foreach (var entry in _registry.Current.Peers)
        {
            await ApplyPeerAsync(dataplane, entry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Resolves <paramref name="entry"/>'s endpoint and applies it on the dataplane's task, unless the registry moved
    /// on meanwhile (a newer entry for the key applies itself; a removal removes).
    /// </summary>
    private async Task ApplyPeerAsync(DataplaneLoop dataplane, RegistryPeer entry, CancellationToken cancellationToken)
    {
        var settings = await ResolvePeerAsync(entry, cancellationToken).ConfigureAwait(false);
        await OnDataplaneAsync(dataplane, (loop, now) =>
        {
            if (_registry.Current.TryGet(entry.NodeKey, out var current) && ReferenceEquals(current, entry))
            {
                ApplyPeer(loop, settings, now);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Drops the peer (and its session) from the dataplane, unless it was added back and that newer entry is what the
    /// dataplane already runs: a removal followed by an add still starts the peer afresh.
    /// </summary>
    private async Task UnapplyPeerAsync(DataplaneLoop dataplane, WireGuardKey publicKey, CancellationToken cancellationToken)
    {
        await OnDataplaneAsync(dataplane, (loop, now) =>
        {
            UnapplyPeer(loop, publicKey, now);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>On the dataplane's task: drops the peer, unless it was added back and that newer entry is applied.</summary>
    private void UnapplyPeer(DataplaneLoop loop, WireGuardKey publicKey, long now)
    {
        var key = publicKey.Bytes.ToArray();
        var readdedAndApplied = _registry.Current.TryGet(publicKey, out var current)
            && loop.Core.TryGetPeer(key, out var peer)
            && peer?.Tag is PeerSettings { Entry: { } applied }
            && ReferenceEquals(applied, current);
        if (!readdedAndApplied)
        {
            loop.ConfigureRelayPath(key, null, now);
            loop.Paths?.RemovePeer(key);
            loop.StaticPaths?.RemovePeer(key);
            loop.Core.RemovePeer(key);
        }
    }

    private async Task ApplyInBackgroundAsync(DataplaneLoop dataplane, RegistryPeer entry)
    {
        try
        {
            await ApplyPeerAsync(dataplane, entry, _disposing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The node stopped.
        }
        catch (Exception ex)
        {
            LogPeerUpdateFailed(_logger, entry.NodeKey.ToString(), ex);
        }
    }

    private async Task UnapplyInBackgroundAsync(DataplaneLoop dataplane, WireGuardKey publicKey)
    {
        try
        {
            await UnapplyPeerAsync(dataplane, publicKey, _disposing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The node stopped.
        }
        catch (Exception ex)
        {
            LogPeerUpdateFailed(_logger, publicKey.ToString(), ex);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the dataplane's task (the one place the registry code submits work to the
    /// loop, so a change of the loop's command API touches only this method).
    /// </summary>
    private static Task<T> OnDataplaneAsync<T>(DataplaneLoop dataplane, Func<DataplaneLoop, long, T> action, CancellationToken cancellationToken) =>
        dataplane.InvokeAsync((loop, now) => ValueTask.FromResult(action(loop, now)), cancellationToken);

    private async Task<PeerSettings> ResolvePeerAsync(RegistryPeer peer, CancellationToken cancellationToken)
    {
        UnderlayAddress? endpoint = null;
        UnderlayAddress? relayedPeerDirect = null;
        string? host = null;
        RelayPathSettings? relay = null;
        if (peer.Relay is { Address: { } relayAddress } path)
        {
            // A relayed peer's WireGuard endpoint is the relay's address + VNI; with an endpoint configured as well,
            // the static path layer chooses between the two. Its host name is resolved once, here: re-resolving on a
            // handshake retry would replace the relay path (the relay keeps working while the name does not resolve).
            relay = new RelayPathSettings(UnderlayAddress.FromIPEndPoint(relayAddress), path.ServerDiscoKey, path.Vni, path.PeerDiscoKey);
            endpoint = relay.Endpoint;
            if (peer.Endpoint is { } direct)
            {
                try
                {
                    relayedPeerDirect = UnderlayAddress.FromIPEndPoint(await EndpointParser.ResolveAsync(direct, cancellationToken).ConfigureAwait(false));
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or FormatException)
                {
                    LogResolveFailed(_logger, direct, ex.Message);
                }
            }
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
            peer.NodeKey.Bytes.ToArray(),
            peer.PresharedKey?.Bytes.ToArray(),
            endpoint,
            host,
            peer.AllowedIps,
            peer.PersistentKeepalive,
            peer.Name,
            relay,
            peer,
            relayedPeerDirect);
    }

    private static void ApplyPeer(DataplaneLoop loop, PeerSettings settings, long now)
    {
        var core = loop.Core;
        var peer = core.AddPeer(settings.PublicKey);
        peer.SetPresharedKey(settings.PresharedKey ?? ReadOnlySpan<byte>.Empty);
        core.SetAllowedIps(peer, IPNetworkLists.Prefixes(settings.AllowedIps));
        var hadEndpoint = peer.Endpoint.IsSet;
        if (ApplyPeerPath(loop, peer, settings, now))
        {
            // Control mode: the path layer picks direct UDP or DERP per datagram behind a fixed virtual endpoint. A peer
            // that had no endpoint at all (a first netmap before its disco key) dropped any initiation to it: that one
            // goes out now, not after REKEY_TIMEOUT.
            if (!hadEndpoint)
            {
                core.HandshakeOnNewPath(peer, now, loop);
            }
        }
        else if (ApplyStaticPath(loop, peer, settings, now))
        {
            // Static mode, endpoint and relay path: the static path layer picks direct UDP or the relay per datagram.
        }
        else if (peer.FixedEndpoint)
        {
            // The peer lost its disco key (or its endpoint or relay path): back to a plain WireGuard endpoint.
            peer.FixedEndpoint = false;
            loop.Paths?.RemovePeer(settings.PublicKey);
            loop.StaticPaths?.RemovePeer(settings.PublicKey);
            core.ConfigureEndpoint(peer, settings.Endpoint ?? default);
        }
        else if (settings.Endpoint is { } endpoint)
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
                await OnDataplaneAsync(dataplane, (loop, _) =>
                {
                    if (loop.Core.TryGetPeer(settings.PublicKey, out var peer) && peer is not null && peer.Endpoint != endpoint)
                    {
                        loop.Core.ConfigureEndpoint(peer, endpoint);
                    }

                    return true;
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
