using System.Net;
using System.Net.Sockets;
using TsNet.Services;

namespace TsNet.Services.Publishing;

/// <summary>
/// A published TCP port: accepts connections on one side and, for each, connects to the target on the other side and
/// splices the two (<see cref="StreamSplice"/>). When the target cannot be reached, the accepted connection is reset.
/// </summary>
internal abstract class TcpRelay(PortMapping mapping, PublishingContext context) : PortRelay(mapping, context)
{
    private Task? _acceptLoop;

    public override void Start()
    {
        _acceptLoop = Task.Run(() => AcceptLoopAsync(Context.Stopping), CancellationToken.None);
        Context.Tasks.Track(_acceptLoop);
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseListenerAsync().ConfigureAwait(false);
        if (_acceptLoop is not null)
        {
            // The loop ends once the listener is closed; sessions see the publication's cancellation.
            await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>The next accepted connection and its peer's endpoint; null once the listener is closed.</summary>
    protected abstract ValueTask<(SpliceEnd End, EndPoint Client)?> AcceptAsync(CancellationToken cancellationToken);

    /// <summary>Connects to the target on the other side.</summary>
    protected abstract ValueTask<SpliceEnd> ConnectTargetAsync(CancellationToken cancellationToken);

    protected abstract ValueTask CloseListenerAsync();

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            (SpliceEnd End, EndPoint Client)? accepted;
            try
            {
                accepted = await AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException
                || (ex is SocketException se && se.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted))
            {
                return; // closed
            }
            catch (Exception ex)
            {
                PublishingLog.ListenerFailed(Context.Logger, Mapping, ex);
                return;
            }

            if (accepted is not { } connection)
            {
                return;
            }

            Context.SocketOpened();
            Port.SessionOpened();
            // Tracked before it runs, and off this loop: a connect that completes synchronously must not stall accepting.
            Context.Tasks.Track(Task.Run(() => RelayAsync(connection.End, connection.Client, cancellationToken), CancellationToken.None));
        }
    }

    private async Task RelayAsync(SpliceEnd accepted, EndPoint client, CancellationToken cancellationToken)
    {
        try
        {
            SpliceEnd target;
            try
            {
                target = await ConnectTargetAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                if (!cancellationToken.IsCancellationRequested)
                {
                    PublishingLog.TcpConnectFailed(Context.Logger, Mapping, client.ToString() ?? "?", ex);
                }

                accepted.Abort();
                await accepted.DisposeAsync().ConfigureAwait(false);
                return;
            }

            var clean = await StreamSplice.RunAsync(accepted, target, cancellationToken).ConfigureAwait(false);
            PublishingLog.TcpSessionEnded(Context.Logger, Mapping, client.ToString() ?? "?", clean ? "closed" : "reset");
        }
        finally
        {
            Port.SessionClosed();
            Context.SocketClosed();
        }
    }
}
