using System.Net;
using System.Threading.Channels;
using TsNet.Netstack;
using TsNet.Netstack.Sockets;

namespace TsNet;

/// <summary>
/// A TCP port listening on the node's overlay addresses. The handshake completes inside the netstack as soon as a
/// SYN arrives (up to a backlog of 128 pending connections); <see cref="AcceptAsync"/> hands them out in order.
/// </summary>
public sealed class TailnetListener : IAsyncDisposable
{
    private readonly NetstackLoop _netstack;
    private readonly TcpListenerEntry _entry;
    private int _disposed;

    internal TailnetListener(NetstackLoop netstack, TcpListenerEntry entry, IPEndPoint localEndPoint)
    {
        _netstack = netstack;
        _entry = entry;
        LocalEndPoint = localEndPoint;
    }

    /// <summary>The listening address (the node's first address) and port.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Waits for the next established connection; null once the listener (or the node) is disposed.</summary>
    public async ValueTask<TailnetConnection?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var channel = await _entry.Accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return new TailnetConnection(channel);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Stops listening; connections not yet accepted are reset. Accepted connections keep running.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _netstack.CloseTcpListenerAsync(_entry).ConfigureAwait(false);
        }
    }
}
