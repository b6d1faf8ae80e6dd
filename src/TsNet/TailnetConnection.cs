using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using TsNet.Netstack.Sockets;

namespace TsNet;

/// <summary>
/// A TCP connection over the tailnet, used like a <see cref="System.Net.Sockets.NetworkStream"/>. The same bytes
/// are also available as a pipe pair through <see cref="Transport"/>; use one view or the other, not both.
/// Disposing closes the connection gracefully (FIN); <see cref="Abort"/> resets it.
/// </summary>
public sealed class TailnetConnection : Stream
{
    private readonly TcpStreamChannel _channel;
    private IDuplexPipe? _transport;
    private int _disposed;
    private int _writeShutdown;

    internal TailnetConnection(TcpStreamChannel channel)
    {
        _channel = channel;
    }

    // The channel's lean pipes are the app-facing reader and writer themselves (no wrappers: fewer objects per connection).
    private TcpReceivePipe Input => _channel.Receive;

    private TcpSendPipe Output => _channel.Send;

    /// <summary>Our overlay address and port.</summary>
    public IPEndPoint LocalEndPoint => _channel.LocalEndPoint;

    /// <summary>The peer's overlay address and port.</summary>
    public IPEndPoint RemoteEndPoint => _channel.RemoteEndPoint;

    /// <summary>
    /// Pipe view of the same bytes (for Kestrel-style consumers): use one view or the other. Like a socket transport's
    /// pipes, once the connection has failed (reset, timed out) the input's reads throw the
    /// <see cref="System.Net.Sockets.SocketException"/> and the output's flushes report <see cref="FlushResult.IsCompleted"/>.
    /// </summary>
    public IDuplexPipe Transport
    {
        // Made on first use: stream users (most) never pay for the pair object.
        get
        {
            var transport = Volatile.Read(ref _transport);
            if (transport is null)
            {
                var created = new DuplexPipe(Input, Output);
                transport = Interlocked.CompareExchange(ref _transport, created, null) ?? created;
            }

            return transport;
        }
    }

    /// <inheritdoc/>
    public override bool CanRead => Volatile.Read(ref _disposed) == 0;

    /// <inheritdoc/>
    public override bool CanWrite => Volatile.Read(ref _disposed) == 0 && Volatile.Read(ref _writeShutdown) == 0;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Sends FIN after the bytes written so far; reading continues until the peer closes.</summary>
    public async ValueTask ShutdownWriteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _writeShutdown, 1) == 0)
        {
            await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            await Output.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Fires (on the thread pool) once the peer closed the connection — its FIN or RST arrived, after every byte before
    /// it — or the connection ended (abort, dispose, node stopped): a transport's "connection closed" signal, which
    /// Kestrel turns into <c>HttpContext.RequestAborted</c> while the app is not reading.
    /// </summary>
    public CancellationToken ConnectionClosed => _channel.Closed;

    /// <summary>Resets the connection (RST): unsent data is discarded and the peer sees "connection reset".</summary>
    public void Abort()
    {
        _channel.RequestAbort();
        _channel.SignalClosed();
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            ReadResult result;
            try
            {
                result = await Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                // Like NetworkStream: stream readers (HttpClient, SslStream) expect IOException for transport failures.
                throw new IOException("Unable to read data from the tailnet connection: " + ex.Message, ex);
            }

            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                var count = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, count).CopyTo(buffer.Span);
                Input.AdvanceTo(data.GetPosition(count));
                return count;
            }

            Input.AdvanceTo(data.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return 0;
            }
        }
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Volatile.Read(ref _writeShutdown) != 0)
        {
            throw new InvalidOperationException("Writing was shut down on this connection.");
        }

        var result = await Output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            // Like NetworkStream (and ReadAsync): an IOException carrying the SocketException — the connection's own
            // error (reset, timed out) when it failed, else a reset: the peer is gone and the bytes went nowhere.
            var error = Output.Error ?? new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset);
            throw new IOException("Unable to write data to the tailnet connection: " + error.Message, error);
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Output.CompleteAsync().ConfigureAwait(false);
        await Input.CompleteAsync().ConfigureAwait(false);
        _channel.SignalClosed();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Output.Complete();
            Input.Complete();
            _channel.SignalClosed();
        }

        base.Dispose(disposing);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
