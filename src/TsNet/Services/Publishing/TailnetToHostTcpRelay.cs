using System.Net;
using System.Net.Sockets;
using TsNet.Services;

namespace TsNet.Services.Publishing;

/// <summary>An overlay TCP listener whose connections are relayed to a host address (<c>--publish tcp:...</c>).</summary>
internal sealed class TailnetToHostTcpRelay(PortMapping mapping, PublishingContext context) : TcpRelay(mapping, context)
{
    /// <summary>Bounds a host connect to an unresponsive address, so a stuck target cannot pile up overlay connections.</summary>
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(10);

    private TailnetListener? _listener;

    protected override async ValueTask<IPEndPoint> BindCoreAsync(CancellationToken cancellationToken)
    {
        var listener = await Context.Node.ListenTcpAsync(Mapping.OverlayPort, cancellationToken).ConfigureAwait(false);
        _listener = listener;
        Context.SocketOpened();
        return listener.LocalEndPoint;
    }

    protected override async ValueTask<(SpliceEnd End, EndPoint Client)?> AcceptAsync(CancellationToken cancellationToken)
    {
        var listener = Volatile.Read(ref _listener);
        if (listener is null || await listener.AcceptAsync(cancellationToken).ConfigureAwait(false) is not { } connection)
        {
            return null;
        }

        return (new OverlaySpliceEnd(connection), connection.RemoteEndPoint);
    }

    protected override async ValueTask<SpliceEnd> ConnectTargetAsync(CancellationToken cancellationToken)
    {
        var target = Mapping.HostTarget!;
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var timeout = new CancellationTokenSource(s_connectTimeout, Context.TimeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            await socket.ConnectAsync(target, linked.Token).ConfigureAwait(false);
            return new HostSpliceEnd(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    protected override async ValueTask CloseListenerAsync()
    {
        if (Interlocked.Exchange(ref _listener, null) is { } listener)
        {
            try
            {
                await listener.DisposeAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The node went first: its listeners are gone with it.
            }

            Context.SocketClosed();
        }
    }
}
