using System.Collections.Concurrent;
using System.Net;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// A TCP echo service on a TsNet node's tailnet listener: every accepted connection gets back what it sends, then a
/// FIN once the client shut down its side. Records the remote end of every accepted connection (for WhoIs and for
/// "nothing got through" assertions). Dispose closes the listener and every open connection, bounded.
/// </summary>
public sealed class TailnetEchoServer : IAsyncDisposable
{
    private readonly TailnetListener _listener;
    private readonly TestLog _log;
    private readonly string _name;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<IPEndPoint> _remotes = new();
    private readonly ConcurrentDictionary<TailnetConnection, Task> _open = new();
    private readonly Task _acceptLoop;

    private TailnetEchoServer(TailnetListener listener, string name, TestLog log)
    {
        _listener = listener;
        _name = name;
        _log = log;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The port it listens on.</summary>
    public int Port => _listener.LocalEndPoint.Port;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => _remotes.Count;

    /// <summary>The remote end of every accepted connection, in order.</summary>
    public IReadOnlyList<IPEndPoint> Remotes => _remotes.ToList();

    /// <summary>Listens on <paramref name="port"/> of <paramref name="node"/> and starts echoing.</summary>
    public static async Task<TailnetEchoServer> StartAsync(TailnetServer node, int port, string name, TestLog log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var listener = await node.ListenTcpAsync(port, cancellationToken);
        log.Write($"[{name}] echo on port {port}");
        return new TailnetEchoServer(listener, name, log);
    }

    /// <summary>
    /// Sends <paramref name="bytes"/> bytes of <see cref="TestData"/> stream <paramref name="seed"/> over
    /// <paramref name="connection"/> while reading as many back; returns what came back (compare with
    /// <see cref="TestData.Sha256(long, ulong)"/>).
    /// </summary>
    public static async Task<TransferDigest> ExchangeAsync(Stream connection, long bytes, ulong seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var write = TestData.WriteAsync(connection, bytes, seed, cancellationToken);
        var read = TestData.DrainAsync(connection, cancellationToken, bytes);
        await Task.WhenAll(write, read);
        return await read;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _listener.DisposeAsync();
        foreach (var connection in _open.Keys)
        {
            connection.Abort();
        }

        try
        {
            await Task.WhenAll(_open.Values.Append(_acceptLoop)).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e)
        {
            _log.Write($"[{_name}] echo on {Port} stopped with {e.GetType().Name}: {e.Message}");
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        await Task.Yield();
        while (!_stop.IsCancellationRequested)
        {
            TailnetConnection? connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            if (connection is null)
            {
                return;
            }

            _remotes.Enqueue(connection.RemoteEndPoint);
            _log.Write($"[{_name}] echo on {Port} accepted {connection.RemoteEndPoint}");
            _open[connection] = EchoAsync(connection);
        }
    }

    private async Task EchoAsync(TailnetConnection connection)
    {
        await Task.Yield();
        var buffer = new byte[TestData.ChunkSize];
        try
        {
            while (true)
            {
                var read = await connection.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                await connection.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }

            await connection.ShutdownWriteAsync(_stop.Token);
        }
        catch (Exception e)
        {
            _log.Write($"[{_name}] echo connection from {connection.RemoteEndPoint} ended with {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            await connection.DisposeAsync();
            _open.TryRemove(connection, out _);
        }
    }
}
