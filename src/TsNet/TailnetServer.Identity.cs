using System.Net;

namespace TsNet;

// WhoIs: which peer is behind a tailnet address, answered from the registry snapshot (no lock, no loop round trip).
public sealed partial class TailnetServer
{
    /// <summary>
    /// Tells who is at <paramref name="remote"/>, the remote end of an inbound or outbound tailnet connection: the peer
    /// whose AllowedIPs hold its address (longest prefix). Static peers answer with their name, node key and
    /// addresses (see <see cref="TailnetPeerIdentity.Addresses"/>); the port is not consulted.
    /// </summary>
    /// <param name="remote">The remote endpoint, e.g. <see cref="TailnetConnection.RemoteEndPoint"/>.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The peer's identity, or null when no peer owns the address (including the node's own addresses).</returns>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    public ValueTask<TailnetPeerIdentity?> WhoIsAsync(IPEndPoint remote, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
        }

        return ValueTask.FromResult(_registry.Current.FindByAddress(remote.Address)?.Identity);
    }
}
