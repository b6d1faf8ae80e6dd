using System.Net;
using System.Net.Sockets;
using TsNet.Services;

namespace TsNet.Services.Publishing;

/// <summary>A host TCP listener whose connections are relayed to an overlay address (<c>--forward tcp:...</c>).</summary>
internal sealed class HostToTailnetTcpRelay(PortMapping mapping, PublishingContext context) : TcpRelay(mapping, context)
{
    /// <summary>Pending host connections the kernel queues for us, as many as the node's own listener backlog default.</summary>
    private const int Backlog = 128;

    private Socket? _listener;
    private IPEndPoint? _target;

    protected override ValueTask<IPEndPoint> BindCoreAsync(CancellationToken cancellationToken)
    {
        // Resolve first: a target that names no peer fails the publication before any socket exists.
        _target = Context.Node.ResolveDialTarget(Mapping.Target!);
        var listen = Mapping.Listen!;
        var socket = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (listen.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(listen);
            socket.Listen(Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _listener = socket;
        Context.SocketOpened();
        return ValueTask.FromResult((IPEndPoint)socket.LocalEndPoint!);
    }

    protected override async ValueTask<(SpliceEnd End, EndPoint Client)?> AcceptAsync(CancellationToken cancellationToken)
    {
        var socket = await _listener!.AcceptAsync(cancellationToken).ConfigureAwait(false);
        return (new HostSpliceEnd(socket), socket.RemoteEndPoint!);
    }

    protected override async ValueTask<SpliceEnd> ConnectTargetAsync(CancellationToken cancellationToken) =>
        new OverlaySpliceEnd(await Context.Node.ConnectTcpAsync(_target!, cancellationToken).ConfigureAwait(false));

    protected override ValueTask CloseListenerAsync()
    {
        if (Interlocked.Exchange(ref _listener, null) is { } listener)
        {
            listener.Dispose();
            Context.SocketClosed();
        }

        return ValueTask.CompletedTask;
    }
}
