using System.Net;

namespace TsNet;

/// <summary>
/// A node of a WireGuard-based private network running inside this process: a userspace IP stack wired to a
/// WireGuard dataplane over an unprivileged UDP socket.
/// </summary>
public sealed partial class TailnetServer : IAsyncDisposable
{
    private readonly TailnetServerOptions _options;

    /// <summary>Creates a node from <paramref name="options"/> (copied). Call <see cref="StartAsync"/> to bring it up.</summary>
    public TailnetServer(TailnetServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>The node's public key.</summary>
    public WireGuardKey PublicKey => throw new NotImplementedException();

    /// <summary>The node's overlay addresses.</summary>
    public IReadOnlyList<IPAddress> Addresses => throw new NotImplementedException();

    /// <summary>The underlay UDP port actually bound (after start).</summary>
    public int ListenPort => throw new NotImplementedException();

    /// <summary>Starts the node; later calls return the first call's outcome.</summary>
    public ValueTask StartAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Sends ICMP echo requests until one is answered; returns the round-trip time.</summary>
    /// <exception cref="TimeoutException">No reply within <paramref name="timeout"/> (default 5 s).</exception>
    public ValueTask<TimeSpan> PingAsync(IPAddress address, TimeSpan? timeout = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Adds a peer or replaces the configuration of the peer with the same public key.</summary>
    public void AddOrUpdatePeer(TailnetPeer peer) => throw new NotImplementedException();

    /// <summary>Removes a peer; false when it was not configured.</summary>
    public bool RemovePeer(WireGuardKey publicKey) => throw new NotImplementedException();

    /// <summary>Test hook: moves the underlay to a new UDP port mid-session (0 = ephemeral); returns the new port.</summary>
    internal ValueTask<int> RebindUnderlayAsync(int port, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Stops the node; idempotent.</summary>
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
