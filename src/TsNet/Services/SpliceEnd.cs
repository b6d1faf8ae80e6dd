using System.Net.Sockets;

namespace TsNet.Services;

/// <summary>One side of a relayed TCP connection: a byte stream that can be half-closed or reset.</summary>
internal abstract class SpliceEnd : IAsyncDisposable
{
    public abstract Stream Stream { get; }

    /// <summary>Sends FIN after the bytes written so far; reading continues.</summary>
    public abstract ValueTask ShutdownWriteAsync(CancellationToken cancellationToken);

    /// <summary>Resets the connection (RST), so the other party sees the failure instead of a clean end.</summary>
    public abstract void Abort();

    public abstract ValueTask DisposeAsync();
}

/// <summary>A host TCP socket.</summary>
internal sealed class HostSpliceEnd : SpliceEnd
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    public HostSpliceEnd(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true; // the relay forwards what arrives; coalescing is the endpoints' business
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public override Stream Stream => _stream;

    public override ValueTask ShutdownWriteAsync(CancellationToken cancellationToken)
    {
        _socket.Shutdown(SocketShutdown.Send);
        return ValueTask.CompletedTask;
    }

    public override void Abort()
    {
        try
        {
            // Linger 0 turns the close into a RST.
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        _socket.Dispose();
    }

    public override async ValueTask DisposeAsync() => await _stream.DisposeAsync().ConfigureAwait(false);
}

/// <summary>A TCP connection on the tailnet.</summary>
internal sealed class OverlaySpliceEnd(TailnetConnection connection) : SpliceEnd
{
    public override Stream Stream => connection;

    public override ValueTask ShutdownWriteAsync(CancellationToken cancellationToken) => connection.ShutdownWriteAsync(cancellationToken);

    public override void Abort() => connection.Abort();

    public override async ValueTask DisposeAsync() => await connection.DisposeAsync().ConfigureAwait(false);
}
