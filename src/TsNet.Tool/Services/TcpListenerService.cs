using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Services;

/// <summary>
/// Accepts TCP connections on a <see cref="TailnetListener"/> and runs a handler for each, concurrently. Disposing
/// stops accepting, cancels the handlers and waits for them (bounded), then closes their connections.
/// </summary>
internal sealed class TcpListenerService : ITailnetService
{
    // Handlers see the cancellation at once; this only bounds a handler stuck in a write to a peer that stopped reading.
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(3);

    private readonly TailnetListener _listener;
    private readonly Func<TailnetConnection, CancellationToken, Task> _handler;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _handlers = new();
    private readonly Task _acceptLoop;
    private int _disposed;

    private TcpListenerService(TailnetListener listener, string name, Func<TailnetConnection, CancellationToken, Task> handler, ILogger logger)
    {
        _listener = listener;
        _name = name;
        _handler = handler;
        _logger = logger;
        Description = $"{name} on tcp/{listener.LocalEndPoint.Port}";
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>Listens on <paramref name="port"/> of <paramref name="node"/> and serves each connection with <paramref name="handler"/>.</summary>
    public static async Task<TcpListenerService> StartAsync(TailnetServer node, int port, string name, Func<TailnetConnection, CancellationToken, Task> handler, ILogger logger, CancellationToken cancellationToken)
    {
        var listener = await node.ListenTcpAsync(port, cancellationToken).ConfigureAwait(false);
        ServiceLog.Listening(logger, name, "tcp", port);
        return new TcpListenerService(listener, name, handler, logger);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _listener.DisposeAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        var running = _handlers.Keys.ToArray();
        try
        {
            await Task.WhenAll(running).WaitAsync(s_stopGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            ServiceLog.HandlersLingering(_logger, _name, running.Count(t => !t.IsCompleted), s_stopGrace.TotalSeconds);
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            TailnetConnection? connection;
            try
            {
                connection = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (connection is null)
            {
                return;
            }

            var task = ServeAsync(connection);
            _handlers[task] = 0;
            _ = task.ContinueWith(t => _handlers.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(TailnetConnection connection)
    {
        await Task.Yield();
        var remote = connection.RemoteEndPoint.ToString();
        ServiceLog.Accepted(_logger, _name, remote);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await _handler(connection, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The peer went away or the service stops: nothing to report beyond debug.
            }
            catch (Exception e)
            {
                ServiceLog.ConnectionFailed(_logger, _name, remote, e);
            }
        }
    }
}
