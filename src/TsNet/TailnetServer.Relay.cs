namespace TsNet;

// The UDP peer-relay server a node can run next to its own underlay (tailscale's relay server feature).
public sealed partial class TailnetServer
{
    private readonly List<UdpRelayServer> _relayServers = [];

    /// <summary>
    /// Starts a <see cref="UdpRelayServer"/> tied to this node: it runs on its own UDP port (independent of the node's
    /// underlay, so it may be started before <see cref="StartAsync"/>) and is disposed with the node. Options left null
    /// (<see cref="UdpRelayServerOptions.TimeProvider"/>, <see cref="UdpRelayServerOptions.LoggerFactory"/>) take the
    /// node's. Disposing the returned server earlier stops just the relay.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">A bind address could not be bound.</exception>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    public async ValueTask<UdpRelayServer> StartUdpRelayServerAsync(UdpRelayServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
        }

        var effective = options.Copy();
        effective.TimeProvider ??= _options.TimeProvider;
        effective.LoggerFactory ??= _options.LoggerFactory;
        var relay = await UdpRelayServer.StartAsync(effective, cancellationToken).ConfigureAwait(false);
        bool disposed;
        lock (_gate)
        {
            disposed = _disposeTask is not null;
            if (!disposed)
            {
                _relayServers.Add(relay);
                relay.Disposed += ForgetRelayServer;
            }
        }

        if (disposed)
        {
            // The node went away while the relay was binding: nothing may outlive the node.
            await relay.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(TailnetServer));
        }

        return relay;
    }

    /// <summary>Test hook: every relay path starts a new bind handshake (new generation) now.</summary>
    internal Task RestartRelayHandshakesAsync(CancellationToken cancellationToken = default)
    {
        var (dataplane, _) = Started();
        return dataplane.InvokeAsync((loop, now) => loop.RestartRelayHandshakes(now), cancellationToken);
    }

    /// <summary>Test hook: (bound, handshakes completed, current generation) of each relay path, read on the dataplane's task.</summary>
    internal Task<List<(bool Bound, long Handshakes, uint Generation)>> InspectRelayPathsAsync(CancellationToken cancellationToken = default)
    {
        var (dataplane, _) = Started();
        return dataplane.InvokeAsync<List<(bool Bound, long Handshakes, uint Generation)>>((loop, _) =>
        {
            var paths = new List<(bool Bound, long Handshakes, uint Generation)>();
            foreach (var path in loop.RelayPaths)
            {
                paths.Add((path.Bound, path.HandshakesCompleted, path.Client?.Generation ?? 0u));
            }

            return ValueTask.FromResult(paths);
        }, cancellationToken);
    }

    private void ForgetRelayServer(UdpRelayServer relay)
    {
        lock (_gate)
        {
            _relayServers.Remove(relay);
        }
    }

    private async Task DisposeRelayServersAsync()
    {
        UdpRelayServer[] relays;
        lock (_gate)
        {
            relays = _relayServers.ToArray();
        }

        foreach (var relay in relays)
        {
            await relay.DisposeAsync().ConfigureAwait(false);
        }
    }
}
