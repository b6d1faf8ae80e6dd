using System.Net;
using System.Net.Sockets;
using TsNet.Services.Socks5;

namespace TsNet;

/// <summary>
/// A SOCKS5 proxy (RFC 1928, username/password of RFC 1929) on a loopback port that lets any local program reach the
/// tailnet: every CONNECT is dialed into the overlay and UDP ASSOCIATE relays datagrams into it; nothing is ever dialed
/// out a host socket toward the target. Started by <see cref="TailnetServer.StartLoopbackProxyAsync"/>. Disposing stops
/// accepting and ends connections still negotiating; spliced connections and UDP associations finish on their own or
/// when the node stops.
/// </summary>
public sealed class LoopbackProxy : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Socks5Context _context;
    private readonly int _maxConnections;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly CancellationToken _nodeStopping;
    private readonly BackgroundTaskTracker _sessions = new();
    private readonly Task _acceptLoop;
    private readonly object _gate = new();
    private Task? _disposeTask;

    internal LoopbackProxy(Socket listener, string password, Socks5Context context, int maxConnections, CancellationToken nodeStopping)
    {
        _listener = listener;
        _context = context;
        _maxConnections = maxConnections;
        _slots = new SemaphoreSlim(maxConnections, maxConnections);
        _nodeStopping = nodeStopping;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        Password = password;
        Socks5Log.Started(context.Logger, EndPoint.ToString());
        _acceptLoop = Task.Run(AcceptLoopAsync);
        Completion = RunToCompletionAsync();
    }

    /// <summary>The loopback address and port the proxy listens on (the actual port when the options asked for 0).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The RFC 1929 username clients must send: <c>tsnet</c>, as in Go tsnet's <c>Loopback()</c>.</summary>
    public string Username => DefaultUsername;

    /// <summary>The RFC 1929 password: from the options, else 32 lowercase hex characters generated for this start.</summary>
    public string Password { get; }

    internal const string DefaultUsername = "tsnet";

    /// <summary>Client connections currently served (negotiating, spliced or holding a UDP association).</summary>
    internal int ActiveConnections => _sessions.Count;

    /// <summary>Completes once the proxy stopped accepting and every connection it served has ended.</summary>
    internal Task Completion { get; }

    /// <summary>Stops accepting and ends connections still negotiating; spliced ones continue. Idempotent.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposeTask ??= DisposeCoreAsync();
            return new ValueTask(_disposeTask);
        }
    }

    private async Task DisposeCoreAsync()
    {
        await _stopAccepting.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Socks5Log.Stopped(_context.Logger, EndPoint.ToString());
    }

    private async Task AcceptLoopAsync()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopAccepting.Token, _nodeStopping);
        try
        {
            while (true)
            {
                // Back-pressure, not refusal: at the cap the loop waits here and new clients queue in the listen backlog.
                if (!_slots.Wait(0))
                {
                    Socks5Log.AtCapacity(_context.Logger, _maxConnections);
                    await _slots.WaitAsync(stop.Token).ConfigureAwait(false);
                }

                Socket client;
                try
                {
                    client = await _listener.AcceptAsync(stop.Token).ConfigureAwait(false);
                }
                catch
                {
                    _slots.Release();
                    throw;
                }

                client.NoDelay = true;
                _sessions.Track(RunSessionAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException
            || (ex is SocketException && stop.IsCancellationRequested))
        {
            // Disposed, or the node stopped.
        }
        catch (Exception ex)
        {
            Socks5Log.AcceptFailed(_context.Logger, ex);
        }
        finally
        {
            _listener.Dispose();
        }
    }

    private async Task RunSessionAsync(Socket client)
    {
        try
        {
            await Task.Yield(); // the accept loop goes back to accepting at once
            await Socks5Session.RunAsync(client, _context, _stopAccepting.Token, _nodeStopping).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task RunToCompletionAsync()
    {
        await _acceptLoop.ConfigureAwait(false);

        // The accept loop has ended, so no session is added any more: this snapshot is the final set.
        try
        {
            await Task.WhenAll(_sessions.Snapshot()).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Each session logs its own failure.
        }
    }
}
